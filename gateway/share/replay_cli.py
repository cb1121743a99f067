"""`ottla share-groups replay-dlq`: the replay over a running broker's admin endpoint, or offline on a data dir.

Prints the result as JSON; exit status 0 on success, 1 when the broker or the data dir says no.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.error
import urllib.request

from gateway.clock import now_ms


def replay_dlq(args) -> int:
    if args.admin:
        body = json.dumps({"topic": args.topic, "max": args.max, "source_topic": args.source_topic}).encode()
        request = urllib.request.Request(f"http://{args.admin}/share-groups/replay-dlq", data=body, method="POST",
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                print(response.read().decode())
                return 0
        except urllib.error.HTTPError as error:
            print(error.read().decode(), file=sys.stderr)
            return 1
    from partitions import Logs
    from partitions.rocks import RocksStorage
    from gateway.share.replay import replay_dead_letters
    from wire.errors import KafkaError

    path = os.path.join(args.data_dir, "rocksdb")
    if not os.path.isdir(path):
        print(json.dumps({"error": f"no Ottla data in {args.data_dir}"}), file=sys.stderr)
        return 1
    try:
        storage = RocksStorage(path)
    except Exception as error:  # RocksDB's lock: a broker is running on this data dir
        print(json.dumps({"error": f"cannot open {path} (is a broker running on it? use --admin): {error}"}),
              file=sys.stderr)
        return 1
    try:
        result = replay_dead_letters(Logs(storage), storage.state(), args.topic, now_ms=now_ms(),
                                     max_records=args.max, source_topic=args.source_topic)
    except KafkaError as error:
        print(json.dumps({"error": error.message}), file=sys.stderr)
        return 1
    finally:
        storage.close()
    print(json.dumps(result.as_dict()))
    return 0
