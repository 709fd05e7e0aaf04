"""The cpu-scale BERT and GPT training step in PyTorch, for a same-machine, same-run speed comparison.

Same shapes, same parameterisation and the same step as ApolloBench's TorchSharp models (post-LN
BERT with an MLM head on the masked positions only; pre-LN GPT with a tied head; AdamW, clipping at
1.0; dropout at Hugging Face's sites with the bench's rate). Debian's PyTorch 1.13 has no scaled_dot_product_attention, so attention is written out
(matmul, mask, softmax, matmul): the same arithmetic, a different kernel.
Prints one JSON object: tokens/s per model and the best fp32 matmul rate.
"""
import json, math, sys, time
import torch
import torch.nn as nn
import torch.nn.functional as F


P = 0.0  # dropout probability, set from the configuration


def attention(q, k, v, causal):
    s = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    if causal:
        t = q.shape[-2]
        s = s.masked_fill(torch.ones(t, t, dtype=torch.bool).triu(1), float("-inf"))
    return F.dropout(torch.softmax(s, -1), P) @ v


class BertLayer(nn.Module):
    def __init__(s, h, heads):
        super().__init__()
        s.heads = heads
        s.q, s.k, s.v, s.o = (nn.Linear(h, h) for _ in range(4))
        s.ln1, s.ln2 = nn.LayerNorm(h, eps=1e-12), nn.LayerNorm(h, eps=1e-12)
        s.fc1, s.fc2 = nn.Linear(h, 4 * h), nn.Linear(4 * h, h)

    def forward(s, x):
        b, t, h = x.shape
        split = lambda y: y.view(b, t, s.heads, h // s.heads).transpose(1, 2)
        a = attention(split(s.q(x)), split(s.k(x)), split(s.v(x)), False).transpose(1, 2).reshape(b, t, h)
        x = s.ln1(F.dropout(s.o(a), P) + x)
        return s.ln2(F.dropout(s.fc2(F.gelu(s.fc1(x))), P) + x)


class Bert(nn.Module):
    def __init__(s, layers, h, heads, vocab, seq):
        super().__init__()
        s.wte, s.wpe, s.typ = nn.Embedding(vocab, h), nn.Embedding(seq, h), nn.Embedding(2, h)
        s.ln = nn.LayerNorm(h, eps=1e-12)
        s.layers = nn.ModuleList(BertLayer(h, heads) for _ in range(layers))
        s.tdense, s.tln = nn.Linear(h, h), nn.LayerNorm(h, eps=1e-12)
        s.bias = nn.Parameter(torch.zeros(vocab))

    def forward(s, ids, labels):
        t = ids.shape[1]
        x = F.dropout(s.ln(s.wte(ids) + s.wpe.weight[:t] + s.typ.weight[0]), P)
        for layer in s.layers:
            x = layer(x)
        flat = labels.reshape(-1)
        rows = (flat != -100).nonzero().squeeze(1)
        hsel = x.reshape(-1, x.shape[-1]).index_select(0, rows)
        logits = F.linear(s.tln(F.gelu(s.tdense(hsel))), s.wte.weight, s.bias)
        return F.cross_entropy(logits, flat.index_select(0, rows))


class GptBlock(nn.Module):
    def __init__(s, h, heads):
        super().__init__()
        s.heads = heads
        s.ln1, s.ln2 = nn.LayerNorm(h), nn.LayerNorm(h)
        s.attn, s.proj = nn.Linear(h, 3 * h), nn.Linear(h, h)
        s.fc, s.fcp = nn.Linear(h, 4 * h), nn.Linear(4 * h, h)

    def forward(s, x):
        b, t, h = x.shape
        qkv = s.attn(s.ln1(x)).view(b, t, 3, s.heads, h // s.heads).permute(2, 0, 3, 1, 4)
        a = attention(qkv[0], qkv[1], qkv[2], True).transpose(1, 2).reshape(b, t, h)
        x = x + F.dropout(s.proj(a), P)
        return x + F.dropout(s.fcp(F.gelu(s.fc(s.ln2(x)), approximate="tanh")), P)


class Gpt(nn.Module):
    def __init__(s, layers, h, heads, vocab, seq):
        super().__init__()
        s.wte, s.wpe = nn.Embedding(vocab, h), nn.Embedding(seq, h)
        s.blocks = nn.ModuleList(GptBlock(h, heads) for _ in range(layers))
        s.lnf = nn.LayerNorm(h)

    def forward(s, ids, labels):
        t = ids.shape[1]
        x = F.dropout(s.wte(ids) + s.wpe.weight[:t], P)
        for block in s.blocks:
            x = block(x)
        logits = F.linear(s.lnf(x), s.wte.weight)
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1))


def tokens_per_second(model, ids, labels, steps, warmup):
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.01)
    def step():
        opt.zero_grad(set_to_none=True)
        model(ids, labels).backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
    for _ in range(warmup):
        step()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return ids.numel() * steps / (time.perf_counter() - start)


def matmul_gflops(n=2048, reps=10):
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    best = 0.0
    for _ in range(3):  # best of three batches, as the C# side measures its own peak
        start = time.perf_counter()
        for _ in range(reps):
            a @ b
        best = max(best, 2 * n ** 3 * reps / (time.perf_counter() - start) / 1e9)
    return best


def main():
    global P
    cfg = json.loads(sys.argv[1])
    P = cfg.get("dropout", 0.0)
    torch.set_num_threads(cfg["threads"])
    torch.manual_seed(0)
    L, h, heads, V, T, B = (cfg[k] for k in ("layers", "hidden", "heads", "vocab", "seq", "batch"))
    ids = torch.randint(6, V, (B, T))
    out = {"torch": torch.__version__, "threads": torch.get_num_threads(),
           "blas": torch.__config__.show().split("BLAS_INFO=")[-1].split(",")[0] if "BLAS_INFO=" in torch.__config__.show() else "unknown"}
    gpt_labels = torch.randint(6, V, (B, T))
    out["gpt"] = tokens_per_second(Gpt(L, h, heads, V, T), ids, gpt_labels, cfg["steps"], cfg["warmup"])
    bert_labels = torch.full((B, T), -100, dtype=torch.long)
    mask = torch.rand(B, T) < 0.15
    bert_labels[mask] = ids[mask]
    out["bert"] = tokens_per_second(Bert(L, h, heads, V, T), ids, bert_labels, cfg["steps"], cfg["warmup"])
    out["matmul_gflops"] = matmul_gflops()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
