#!/usr/bin/env python3
"""CSV vs JSON answer cost in tokens: the same 20 real rows (values as the prompt shows them),
counted by a running llama-server's /tokenize (Qwen2.5 tokenizer). Needs `synthehr data build
--out /tmp/dm` first. Prints counts only; no row leaves this machine or reaches the cache."""
# CSV vs JSON rows: Qwen2.5 tokens for the same 20 rows (rendered as the prompt renders values:
# 2 decimals, 3 for pH; empty = missing), counted by the running llama-server's /tokenize.
import csv, json, re, urllib.request
rows = list(csv.DictReader(open('/tmp/dm/design_matrix.csv')))
src = open('src/cohort/schema.rs').read()
block = src[src.index('const ORDER'):src.index('];', src.index('const ORDER'))]
ORDER = re.findall(r'"([a-z0-9_]+)"', block)
def shown(c, v):
    if v in ('', 'NaN', 'nan'): return None
    x = float(v); x = round(x, 3 if c.startswith('bg_ph') else 2)
    return int(x) if x == int(x) else x
def tok(text):
    req = urllib.request.Request('http://127.0.0.1:8080/tokenize', data=json.dumps({'content': text}).encode(), headers={'content-type': 'application/json'})
    return len(json.load(urllib.request.urlopen(req))['tokens'])
for k in (10, 82):
    cols = ORDER[:k] + ['death']
    sample = rows[:20]
    vals = [[shown(c, r.get(c, '')) for c in cols] for r in sample]
    csv_text = ','.join(cols) + '\n' + '\n'.join(','.join('' if v is None else str(v) for v in row) for row in vals) + '\n'
    json_text = json.dumps({'rows': [dict(zip(cols, row)) for row in vals]}, separators=(',', ':'))
    c, j = tok(csv_text), tok(json_text)
    print(f'{k+1} columns, 20 rows: CSV {c} tokens, JSON {j} tokens ({j/c:.2f}x)')
