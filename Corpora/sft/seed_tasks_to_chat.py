#!/usr/bin/env python3
"""Converts Stanford Alpaca's seed_tasks.jsonl (175 human-written tasks) into lmkit's chat JSONL.

Each task's instances become one conversation each:
  user      = instruction, plus "\n\n" + input when the input is not empty
  assistant = output
Usage: python3 seed_tasks_to_chat.py ../../../shared/corpora/sft/alpaca_seed_tasks.jsonl > alpaca_seed_tasks.chat.jsonl
Deterministic: records in file order, keys in a fixed order, UTF-8 kept as is.
"""
import json
import sys

for line in open(sys.argv[1], encoding="utf-8"):
    if not line.strip():
        continue
    task = json.loads(line)
    for inst in task["instances"]:
        user = task["instruction"] + ("\n\n" + inst["input"] if inst["input"].strip() else "")
        rec = {"messages": [{"role": "user", "content": user},
                            {"role": "assistant", "content": inst["output"]}],
               "source": task["id"]}
        print(json.dumps(rec, ensure_ascii=False))
