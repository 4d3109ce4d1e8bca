"""The finding-lifecycle fragments reports lead with: per query, entities new since the last run, resolved, and the
oldest open ones with their ages (run.json `lifecycle`).

`lifecycle_markdown(run) -> list[str]` (Markdown lines) and `lifecycle_html(run) -> str` (one `<section>`) are pure;
both are empty when no query carries a lifecycle. Bounded: at most QUERIES_SHOWN queries and ENTITIES_SHOWN
entities per list (run.json and report.html hold the rest). Every datum is escaped for its channel.
"""

from __future__ import annotations

from runner.report.html_escape import e as _e
from runner.report.load import Entity, LifecycleFigures, OpenFigure, QueryRun, RunArtifact
from runner.sanitize import markdown_inline

QUERIES_SHOWN = 10
ENTITIES_SHOWN = 5


def _tracked(run: RunArtifact) -> list[tuple[QueryRun, LifecycleFigures]]:
    """Queries with a lifecycle, those with something new, resolved or old first."""
    found = [(q, q.lifecycle) for q in run.queries if q.lifecycle is not None]
    return sorted(found, key=lambda item: (-(item[1].new + item[1].resolved) if item[1].previous_run else 0,
                                           -max((o.age_days for o in item[1].oldest), default=0), item[0].name))


def _oldest_age(figures: LifecycleFigures) -> str:
    return str(max(o.age_days for o in figures.oldest)) if figures.oldest else "—"


def _new_text(figures: LifecycleFigures) -> str:
    return f"{figures.new:,}" if figures.previous_run else f"{figures.new:,} (first run)"


# --- Markdown -------------------------------------------------------------------------------------------------------

def _md_entity(entity: Entity | OpenFigure) -> str:
    label = markdown_inline(entity.name) + f" ({markdown_inline(entity.id)})" if entity.name else \
        markdown_inline(entity.id)
    if isinstance(entity, OpenFigure):
        label += f": {entity.age_days} d, since {markdown_inline(entity.first_seen[:10])}"
    return label


def _md_list(title: str, total: int, entities: tuple[Entity, ...] | tuple[OpenFigure, ...]) -> str:
    shown = "; ".join(_md_entity(x) for x in entities[:ENTITIES_SHOWN])
    more = f"; …{total - min(total, ENTITIES_SHOWN)} more" if total > ENTITIES_SHOWN else ""
    return f"  - {title}: {shown}{more}" if shown else f"  - {title}: {total:,} (not named)"


def lifecycle_markdown(run: RunArtifact) -> list[str]:
    tracked = _tracked(run)
    if not tracked:
        return []
    new, resolved = sum(f.new for _, f in tracked if f.previous_run), sum(f.resolved for _, f in tracked)
    lines = ["", f"### New since last run: {new:,} · resolved: {resolved:,}", "",
             "| query | new | resolved | persisting | oldest open (days) |", "| --- | ---: | ---: | ---: | ---: |"]
    lines += [f"| {markdown_inline(q.name)} | {_new_text(f)} | {f.resolved:,} | {f.persisting:,} | {_oldest_age(f)} |"
              for q, f in tracked[:QUERIES_SHOWN]]
    if len(tracked) > QUERIES_SHOWN:
        lines += ["", f"…and {len(tracked) - QUERIES_SHOWN} more queries (see run.json)."]
    for query, figures in tracked[:QUERIES_SHOWN]:
        parts = [_md_list(title, total, entities) for title, total, entities in _lists(figures)]
        if parts:
            lines += ["", f"- **{markdown_inline(query.name)}**", *parts]
    return lines


def _lists(figures: LifecycleFigures) -> list[tuple[str, int, tuple[Entity, ...] | tuple[OpenFigure, ...]]]:
    """The named lists of one query, for both formats: new and oldest open only against a previous run (on a
    lifecycle's first run every entity is "new", which says nothing), resolved whenever some are."""
    lists: list[tuple[str, int, tuple[Entity, ...] | tuple[OpenFigure, ...]]] = []
    if figures.previous_run and figures.new:
        lists.append(("new since last run", figures.new, figures.new_sample))
    if figures.resolved:
        lists.append(("resolved", figures.resolved, figures.resolved_sample))
    if figures.oldest and figures.previous_run:
        lists.append(("oldest open", len(figures.oldest), figures.oldest))
    return lists


# --- HTML -----------------------------------------------------------------------------------------------------------

def _html_entity(entity: Entity | OpenFigure) -> str:
    name = f"{_e(entity.name)} " if entity.name else ""
    age = (f' <span class="muted">{entity.age_days} d, since {_e(entity.first_seen[:10])}</span>'
           if isinstance(entity, OpenFigure) else "")
    return f"<li>{name}<code>{_e(entity.id)}</code>{age}</li>"


def _html_list(title: str, total: int, entities: tuple[Entity, ...] | tuple[OpenFigure, ...]) -> str:
    items = "".join(_html_entity(x) for x in entities[:ENTITIES_SHOWN])
    more = f'<li class="muted">…{total - ENTITIES_SHOWN:,} more</li>' if total > ENTITIES_SHOWN else ""
    if not items:
        return f'<p class="muted">{_e(title)}: {total:,} (not named)</p>'
    return f"<h4>{_e(title)} ({total:,})</h4><ul>{items}{more}</ul>"


def _html_query(query: QueryRun, figures: LifecycleFigures) -> str:
    lists = [_html_list(title, total, entities) for title, total, entities in _lists(figures)]
    if not lists:
        return ""
    return f'<details><summary>{_e(query.name)}</summary><div class="drift-lists">{"".join(lists)}</div></details>'


def lifecycle_html(run: RunArtifact) -> str:
    tracked = _tracked(run)
    if not tracked:
        return ""
    new, resolved = sum(f.new for _, f in tracked if f.previous_run), sum(f.resolved for _, f in tracked)
    rows = "".join(f"<tr><td>{_e(q.name)}</td><td class=\"num added\">{_e(_new_text(f))}</td>"
                   f'<td class="num removed">{f.resolved:,}</td><td class="num">{f.persisting:,}</td>'
                   f'<td class="num">{_e(_oldest_age(f))}</td></tr>' for q, f in tracked[:QUERIES_SHOWN])
    more = (f'<p class="muted">…and {len(tracked) - QUERIES_SHOWN} more queries (see run.json).</p>'
            if len(tracked) > QUERIES_SHOWN else "")
    details = "".join(_html_query(q, f) for q, f in tracked[:QUERIES_SHOWN])
    return ('<section id="lifecycle"><h2>New since last run, resolved, oldest open</h2><div class="panel">'
            f'<p>{new:,} new since the last run · {resolved:,} resolved</p>'
            '<div class="table-wrap"><table><thead><tr><th>query</th><th class="num">new</th>'
            '<th class="num">resolved</th><th class="num">persisting</th><th class="num">oldest open (days)</th>'
            f"</tr></thead><tbody>{rows}</tbody></table></div>{more}{details}</div></section>")
