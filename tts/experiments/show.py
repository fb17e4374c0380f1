"""``tts show``: draw one problem's search tree from a results file (PNG, and HTML with every
node's step text, reward and visits), the chosen path in bold."""

from __future__ import annotations

import html
import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import networkx as nx  # noqa: E402

from tts.experiments.store import read_records  # noqa: E402


def pick(records: list[dict], problem: str | None = None, strategy: str | None = None,
         budget: int | None = None) -> dict:
    """The record to draw: the first with a tree that matches the filters."""
    matches = [r for r in records
               if (problem is None or r["problem_id"] == problem or r["problem_id"].endswith(f"-{problem}"))
               and (strategy is None or r["strategy"] == strategy)
               and (budget is None or r["budget"] == budget)]
    if not matches:
        raise ValueError(f"no record matches problem={problem!r} strategy={strategy!r} budget={budget!r}; "
                         f"strategies here: {sorted({r['strategy'] for r in records})}")
    with_tree = [r for r in matches if r.get("tree")]
    if not with_tree:
        raise ValueError(f"the matching records ({sorted({r['strategy'] for r in matches})}) keep no search tree; "
                         "tree-keeping strategies are beam and mcts (run with store_trees=true)")
    return with_tree[0]


def chosen_path(graph: nx.DiGraph, steps: list[str]) -> list[int]:
    """Node ids from the root along the record's chosen steps."""
    path, node = [0], 0
    for step in steps:
        nxt = [c for c in graph.successors(node) if graph.nodes[c].get("text") == step]
        if not nxt:
            break
        node = nxt[0]
        path.append(node)
    return path


def layout(graph: nx.DiGraph) -> dict[int, tuple[float, float]]:
    """A tidy top-down layout: leaves spaced evenly in depth-first order, parents centred."""
    pos: dict[int, tuple[float, float]] = {}
    next_x = [0.0]

    def place(node: int) -> float:
        kids = sorted(graph.successors(node))
        if not kids:
            x = next_x[0]
            next_x[0] += 1.0
        else:
            xs = [place(k) for k in kids]
            x = (min(xs) + max(xs)) / 2
        pos[node] = (x, -graph.nodes[node].get("depth", 0))
        return x

    import sys

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10 * graph.number_of_nodes() + 100))
    place(0)
    return pos


def render(record: dict, out: str | Path) -> list[Path]:
    graph = nx.node_link_graph(record["tree"], edges="links")
    path = chosen_path(graph, record["steps"])
    on_path = set(path)
    pos = layout(graph)
    rewards = [graph.nodes[n].get("reward") for n in graph.nodes]
    colors = [plt.cm.RdYlGn(r) if r is not None else (0.8, 0.8, 0.8, 1.0) for r in rewards]
    width = max(8.0, 0.35 * max(x for x, _ in pos.values()) + 2)
    height = max(4.0, 1.1 * (1 + max(-y for _, y in pos.values())))
    fig, ax = plt.subplots(figsize=(min(width, 60), height), layout="constrained")
    edges = list(graph.edges)
    nx.draw_networkx_edges(graph, pos, ax=ax, edgelist=edges, arrows=False,
                           width=[3.0 if u in on_path and v in on_path else 0.6 for u, v in edges],
                           edge_color=["black" if u in on_path and v in on_path else "0.6" for u, v in edges])
    nx.draw_networkx_nodes(graph, pos, ax=ax, node_color=colors,
                           node_size=[220 if n in on_path else 90 for n in graph.nodes],
                           edgecolors=["black" if n in on_path else "none" for n in graph.nodes])
    if graph.number_of_nodes() <= 80:  # beyond that the text is unreadable: the HTML table has it
        for n, (x, y) in pos.items():
            if n:
                ax.text(x, y - 0.12, textwrap.shorten(graph.nodes[n].get("text") or "", 28), fontsize=6,
                        rotation=-40, ha="left", va="top", rotation_mode="anchor")
    mappable = plt.cm.ScalarMappable(cmap=plt.cm.RdYlGn, norm=plt.Normalize(0, 1))
    fig.colorbar(mappable, ax=ax, shrink=0.5, label="step reward (grey: not scored)")
    verdict = {True: "correct", False: "wrong", None: "ungraded"}[record["correct"]]
    ax.set_title(f"{record['strategy']} @ {record['budget']} tokens, {record['problem_id']}: answer "
                 f"{record['answer']} (gold {record['gold']}, {verdict})\ncolour = step reward, bold = chosen path",
                 fontsize=9)
    ax.axis("off")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    png, svg = out.with_suffix(".png"), out.with_suffix(".svg")
    fig.savefig(png, dpi=110)
    fig.savefig(svg)
    plt.close(fig)
    page = out.with_suffix(".html")
    page.write_text(_html(record, graph, path, svg.read_text()))
    svg.unlink()
    return [png, page]


def _html(record: dict, graph: nx.DiGraph, path: list[int], svg: str) -> str:
    def fmt(v):
        return "" if v is None else f"{v:.3f}" if isinstance(v, float) else html.escape(str(v))

    rows = []
    for n in sorted(graph.nodes):
        d = graph.nodes[n]
        style = ' style="font-weight:bold;background:#eef"' if n in path else ""
        parent = next(iter(graph.predecessors(n)), None)
        cells = [n, fmt(parent), d.get("depth"), html.escape(d.get("text") or ""), fmt(d.get("reward")),
                 d.get("visits"), fmt(d.get("value")), "yes" if d.get("terminal") else ""]
        rows.append(f"<tr{style}>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    title = html.escape(f"{record['strategy']} on {record['problem_id']}")
    return (f"<!doctype html><meta charset=utf-8><title>{title}</title>"
            "<style>body{font-family:sans-serif}table{border-collapse:collapse;font-size:13px}"
            "td,th{border:1px solid #ccc;padding:2px 6px}</style>"
            f"<h2>{title}</h2><p>{html.escape(record.get('problem', ''))}</p>"
            f"<p>answer <b>{fmt(record['answer'])}</b>, gold "
            f"{fmt(record['gold'])}, score {fmt(record['score'])}; budget {record['budget']} tokens, spent "
            f"{record['spend']['policy_generated']}</p>{svg}<h3>Nodes</h3><table><tr><th>id</th><th>parent</th>"
            "<th>depth</th><th>step</th><th>reward</th><th>visits</th><th>value</th><th>terminal</th></tr>"
            + "".join(rows) + "</table>")


def show(results: str | Path, out: str | Path | None = None, problem: str | None = None,
         strategy: str | None = None, budget: int | None = None) -> list[Path]:
    results = Path(results)
    if not results.is_file():
        raise FileNotFoundError(f"results file not found: {results} (run `tts run` first; it prints where it writes)")
    record = pick(read_records(results), problem, strategy, budget)
    out = out or results.parent / f"tree-{record['strategy']}-{record['budget']}-{record['problem_id']}"
    return render(record, out)
