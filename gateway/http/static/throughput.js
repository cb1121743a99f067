// Polls /api/throughput each second and plots the produce/consume byte rates as two SVG polylines.
(function () {
  var WIDTH = 800, HEIGHT = 240, POINTS = 120;
  var rates = [], last = null;
  function fmt(n) { return n >= 1e6 ? (n / 1e6).toFixed(2) + " MB" : n >= 1e3 ? (n / 1e3).toFixed(1) + " kB" : Math.round(n) + " B"; }
  function draw() {
    var top = Math.max(1, Math.max.apply(null, rates.map(function (r) { return Math.max(r[0], r[1]); })));
    ["in", "out"].forEach(function (name, i) {
      var points = rates.map(function (r, x) {  // the newest at the right edge, one step a second
        var left = WIDTH - (rates.length - 1 - x) * WIDTH / (POINTS - 1);
        return left.toFixed(1) + "," + (HEIGHT - 4 - r[i] / top * (HEIGHT - 24)).toFixed(1);
      });
      document.getElementById("line-" + name).setAttribute("points", points.join(" "));
    });
    document.getElementById("scale").textContent = fmt(top) + "/s";
  }
  function poll() {
    fetch("/api/throughput").then(function (r) { return r.json(); }).then(function (s) {
      document.getElementById("total-in").textContent = s.bytes_in;
      document.getElementById("total-out").textContent = s.bytes_out;
      document.getElementById("total-messages").textContent = s.messages_in;
      if (last !== null) {
        var dt = Math.max(0.001, s.time_s - last.time_s);
        var rate = [(s.bytes_in - last.bytes_in) / dt, (s.bytes_out - last.bytes_out) / dt];
        rates.push(rate);
        if (rates.length > POINTS) rates.shift();
        document.getElementById("rate-in").textContent = fmt(rate[0]) + "/s";
        document.getElementById("rate-out").textContent = fmt(rate[1]) + "/s";
        draw();
      }
      last = s;
    }).catch(function () {}).then(function () { setTimeout(poll, 1000); });
  }
  poll();
})();
