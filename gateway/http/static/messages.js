// The message browser's view switch: JSON/text or hex, for every key, value and header shown.
function showAs(kind) {
  document.querySelectorAll(".bytes").forEach(function (box) {
    var json = box.querySelector(".as-json"), text = box.querySelector(".as-text"), hex = box.querySelector(".as-hex");
    if (kind === "hex") {
      if (json) json.hidden = true;
      text.hidden = true;
      hex.hidden = false;
    } else {
      hex.hidden = true;
      if (json) { json.hidden = false; text.hidden = true; } else { text.hidden = false; }
    }
  });
}
