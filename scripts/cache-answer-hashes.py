#!/usr/bin/env python3
"""One-off migration (kept for entries recorded by binaries older than answer hashes): add
`answer_sha256` = sha256(response.text) to every cache entry that lacks it. Entries that already
carry a hash are left untouched, so an edited answer still fails `synthehr cache verify`."""
import hashlib, json, os, sys

root = sys.argv[1] if len(sys.argv) > 1 else "cache/llm"
added = 0
for shard in sorted(os.listdir(root)):
    d = os.path.join(root, shard)
    if not os.path.isdir(d):
        continue
    for name in sorted(os.listdir(d)):
        p = os.path.join(d, name)
        if not name.endswith(".json"):
            continue
        with open(p, encoding="utf-8") as f:
            e = json.load(f)
        if e.get("answer_sha256"):
            continue
        e["answer_sha256"] = hashlib.sha256(e["response"]["text"].encode("utf-8")).hexdigest()
        tmp = p + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(e, f, indent=2, ensure_ascii=False)
        os.replace(tmp, p)
        added += 1
print(f"added answer_sha256 to {added} entr(ies) in {root}")
