"""Tests of runner.template.render: native values, text, positions, undefined names, the sandbox and its limits."""

from __future__ import annotations

import threading
import time

import pytest

from runner.load.document import load_yaml
from runner.model.values import Document, Finding, JSONValue
from runner.template import LintBudget, LintLimits
from runner.template.render import MAX_OUTPUT, TIME_LIMIT, Renderer, is_template

VARS: dict[str, JSONValue] = {
    "lookback_days": 90,
    "environment": "sandbox",
    "flag": True,
    "nothing": None,
    "ratio": 0.5,
    "types": ["OktaUser", "S3Bucket"],
    "fragments": {"active_user": {"operator": "AND", "specs": [{"fn": "EQ", "property": "status", "value": "ACTIVE"}]}},
}


def load(text: str) -> Document:
    doc, findings = load_yaml(text.encode(), path="queries/q.yaml")
    assert doc is not None and not findings
    return doc


def render_value(text: str, variables: dict[str, JSONValue] | None = None,
                 renderer: Renderer | None = None) -> tuple[JSONValue, list[Finding]]:
    """Render `text` as the value of `v:` on line 2, column 4 of a real loaded file."""
    doc = Document(path="queries/q.yaml", data={"v": text}, values=load("a: 1\nv: x\n").values, keys={})
    return (renderer or Renderer()).render(text, variables=VARS if variables is None else variables, doc=doc,
                                           base=("v",))


def only(findings: list[Finding]) -> Finding:
    assert len(findings) == 1, [(f.rule, f.message) for f in findings]
    return findings[0]


def rules(findings: list[Finding]) -> list[str]:
    return [f.rule for f in findings]


# --- plain values and native values ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("plain", False), ("{ not: jinja }", False), ("a {{ b }}", True), ("{% if x %}{% endif %}", True),
    ("{# note #}", True),
])
def test_is_template(text: str, expected: bool) -> None:
    assert is_template(text) is expected


def test_plain_strings_are_returned_as_they_are() -> None:
    text = "no template here: { } % #"
    value, findings = render_value(text)
    assert value is text and findings == []


@pytest.mark.parametrize(("text", "expected"), [
    ("{{ lookback_days }}", 90),
    ("  {{ lookback_days }}\n", 90),
    ("{{ flag }}", True),
    ("{{ nothing }}", None),
    ("{{ ratio * 2 }}", 1.0),
    ("{{ environment }}", "sandbox"),
    ("{{ types }}", ["OktaUser", "S3Bucket"]),
    ("{{ (1, (2, 'x')) }}", [1, [2, "x"]]),
    ("{{ range(3) }}", [0, 1, 2]),
    ("{{ types|map('lower')|list }}", ["oktauser", "s3bucket"]),
    ("{{ {'a': [lookback_days, none]} }}", {"a": [90, None]}),
    ("{{ dict(days=lookback_days) }}", {"days": 90}),
    ("{{ {'a': 1}|tojson }}", '{"a": 1}'),
    ("{{ [1]|tojson(indent=2) }}", "[\n  1\n]"),
])
def test_a_single_expression_yields_its_native_value(text: str, expected: JSONValue) -> None:
    value, findings = render_value(text)
    assert findings == []
    assert value == expected and type(value) is type(expected)


def test_markup_from_tojson_becomes_a_plain_string() -> None:
    value, _ = render_value("{{ types|tojson }}")
    assert type(value) is str and value == '["OktaUser", "S3Bucket"]'


def test_fragments_are_used_natively() -> None:
    value, findings = render_value("{{ fragments.active_user }}")
    assert findings == [] and value == VARS["fragments"]["active_user"]  # type: ignore[index,call-overload]


def test_mixed_text_yields_a_string_and_keeps_a_trailing_newline() -> None:
    value, findings = render_value("last {{ lookback_days }} days in {{ environment|upper }}\n")
    assert findings == [] and value == "last 90 days in SANDBOX\n"


def test_statements_render_text() -> None:
    text = "{% for t in types %}{{ loop.index }}:{{ t }}{% if not loop.last %},{% endif %}{% endfor %}"
    value, findings = render_value(text)
    assert findings == [] and value == "1:OktaUser,2:S3Bucket"


def test_every_string_inside_lists_and_mappings_is_rendered_but_not_keys() -> None:
    doc = load("spec:\n  '{{ k }}': ['{{ lookback_days }}', 3, true, '{{ environment }}-x']\n")
    value, findings = Renderer().render(doc.data, variables=VARS, doc=doc, base=())
    assert findings == []
    assert value == {"spec": {"{{ k }}": [90, 3, True, "sandbox-x"]}}


@pytest.mark.parametrize("payload", [
    "x\nspec: {query_type: BAD}\nowner: attacker",
    '{"query_type": "BAD", "nodes": [1]}',
    "[1, 2, 3]",
    "{{ lookback_days }}",
])
def test_a_variable_can_never_inject_structure(payload: str) -> None:
    for text in ("{{ payload }}", "before {{ payload }} after"):
        value, findings = render_value(text, {"payload": payload})
        assert findings == []
        assert value == text.replace("{{ payload }}", payload)  # one string, its text untouched, not re-rendered


def test_a_value_with_a_problem_is_kept_as_written() -> None:
    value, findings = render_value("{{ 1 / 0 }}")
    assert value == "{{ 1 / 0 }}" and rules(findings) == ["template/error"]


# --- positions and undefined names ----------------------------------------------------------------------------------

def test_every_undefined_name_is_reported_with_a_suggestion() -> None:
    _, findings = render_value("{{ lookback_dayz }} in {{ enviroment }} by {{ owner_team }} {{ lookback_dayz }}")
    assert rules(findings) == ["template/undefined"] * 3
    assert {(f.line, f.column) for f in findings} == {(2, 4)}
    messages = sorted(f.message for f in findings)
    assert messages == ["undefined variable 'enviroment'; did you mean 'environment'?",
                        "undefined variable 'lookback_dayz'; did you mean 'lookback_days'?",
                        "undefined variable 'owner_team'"]


def test_a_missing_attribute_is_reported_at_run_time() -> None:
    finding = only(render_value("{{ fragments.active_usr }}")[1])
    assert finding.rule == "template/undefined"
    assert finding.message == "undefined key 'active_usr'; did you mean 'active_user'?"


def test_names_guarded_by_default_or_is_defined_are_not_reported() -> None:
    assert render_value("{{ region|default('us-east-1') }}") == ("us-east-1", [])
    assert render_value("{% if region is defined %}{{ region }}{% else %}none{% endif %}") == ("none", [])


def test_loop_variables_and_sets_are_not_undefined() -> None:
    value, findings = render_value("{% set n = 2 %}{% for t in types %}{{ t }}{{ n }}{% endfor %}")
    assert findings == [] and value == "OktaUser2S3Bucket2"


def test_positions_in_a_block_scalar_map_to_the_template_line() -> None:
    text = "a: 1\nv: |\n  first {{ lookback_days }}\n  second\n  third {{ nope }}\n"
    doc = load(text)
    _, findings = Renderer().render(doc.data, variables=VARS, doc=doc, base=())
    finding = only(findings)
    assert (finding.line, finding.column, finding.rule) == (5, 3, "template/undefined")  # at the line's text
    assert finding.message.endswith("(template line 3)")


def test_syntax_errors_are_placed_at_the_value_and_template_line() -> None:
    finding = only(render_value("{{ lookback_days ")[1])
    assert (finding.line, finding.column, finding.rule) == (2, 4, "template/syntax")
    doc = load("v: |\n  ok\n  {% if %}\n")
    finding = only(Renderer().render(doc.data, variables=VARS, doc=doc, base=())[1])
    assert (finding.line, finding.rule) == (3, "template/syntax")


def test_runtime_errors_in_a_block_scalar_use_the_template_line() -> None:
    doc = load("v: |\n  a\n\n  {{ 1 // 0 }}\n")
    finding = only(Renderer().render(doc.data, variables=VARS, doc=doc, base=())[1])
    assert (finding.line, finding.rule) == (4, "template/error")
    assert finding.message.startswith("ZeroDivisionError: ") and "\n" not in finding.message


def test_an_unknown_filter_is_a_syntax_error_with_a_suggestion() -> None:
    finding = only(render_value("{{ environment|uper }}")[1])
    assert finding.rule == "template/syntax" and finding.message == "unknown filter 'uper'; did you mean 'upper'?"


# --- the sandbox ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ ''['__class__'] }}",
    "{{ ().__class__.__base__ }}",
    "{{ self.__init__.__globals__ }}",
    "{{ ''|attr('__class__') }}",
    "{{ '%s'|format(1) }}",
    "{{ '{0}'.format(1) }}",
    "{{ '{x}'.format_map({'x': 1}) }}",
    "{% set f = '{0.__class__}'.format %}{{ f(1) }}",
    "{{ '%s' % 1 }}",
    "{{ [1].pop() }}",
    "{{ {}.update({}) }}",
    "{{ 'a'.center(1000000000) }}",
    "{{ range.__globals__ }}",
    "{% include '/etc/passwd' %}",
    "{% import 'os' as os %}",
    "{% from 'x' import y %}",
    "{% extends 'base' %}",
    "{% macro m() %}{% endmacro %}",
    "{% call m() %}{% endcall %}",
    "{% block b %}{% endblock %}",
    "{% filter upper %}x{% endfilter %}",
    "{% set x %}y{% endset %}",
    "{% for x in [1] recursive %}{% endfor %}",
    "{{ types|xmlattr }}",
    "{{ environment|urlize }}",
])
def test_escapes_and_unsafe_features_are_security_findings(text: str) -> None:
    finding = only(render_value(text)[1])
    assert finding.rule == "template/security", finding.message


@pytest.mark.parametrize("name", ["cycler", "joiner", "lipsum", "namespace", "request", "config", "url_for"])
def test_jinja_and_flask_globals_do_not_exist(name: str) -> None:
    finding = only(render_value(f"{{{{ {name}.__init__.__globals__ }}}}")[1])
    assert finding.rule == "template/undefined" and f"'{name}'" in finding.message


def test_allowed_methods_still_work() -> None:
    text = "{{ environment.upper() }} {{ 'a,b'.split(',') }} {{ fragments.keys()|list }} {{ types.index('S3Bucket') }}"
    value, findings = render_value(text)
    assert findings == [] and value == "SANDBOX ['a', 'b'] ['active_user'] 1"


# --- limits ---------------------------------------------------------------------------------------------------------

DOUBLING = "{% set a0 = [1, 1] %}" + "".join(f"{{% set a{i} = [a{i - 1}, a{i - 1}] %}}" for i in range(1, 64)) + \
    "{{ a63 }}"


@pytest.mark.parametrize("text", [
    "{{ 'a' * 100000000 }}",
    "{{ [0] * 100000000 }}",
    "{{ 9 ** (9 ** 9) }}",
    "{{ 2 ** 100000 }}",
    "{{ range(10**9)|list }}",
    "{{ ('a' * 60000)|replace('a', 'aaaaaaaaaa') }}",
    "{{ 5|round(-1000000000) }}",
    "{{ types|tojson(indent=1000000000) }}",
    "{{ range(10000)|map('string')|join('x' * 1000) }}",
    "{% set s = 'a' * 60000 %}{{ s ~ s ~ s ~ s ~ s }}",
    "{% set s = 'a' * 200000 %}{{ s + s }}",
    "{% for a in range(10000) %}{% for b in range(10000) %}xxxxxxxx{% endfor %}{% endfor %}",
    "{{ 'x' * 40000 }}{{ 'x' * 40000 }}",
    "{% set d = dict(a='x' * 200000) %}{{ ([d.items()] * 30000)|string }}",
    DOUBLING,
])
def test_size_bombs_stop_quickly(text: str) -> None:
    started = time.monotonic()
    finding = only(render_value(text)[1])
    assert finding.rule == "template/too-large", finding.message
    assert time.monotonic() - started < 1.0


def test_output_of_exactly_the_limit_is_allowed() -> None:
    value, findings = render_value(f"{{{{ 'x' * {MAX_OUTPUT} }}}}")
    assert findings == [] and isinstance(value, str) and len(value) == MAX_OUTPUT
    assert rules(render_value(f"{{{{ 'é' * {MAX_OUTPUT // 2 + 1} }}}}")[1]) == ["template/too-large"]  # bytes


@pytest.mark.parametrize("text", [
    "{% for a in range(10000) %}{% for b in range(10000) %}{% endfor %}{% endfor %}",
    "{% set s = 'ab' * 5000 %}{% for a in s %}{% for b in s %}{% endfor %}{% endfor %}",
])
def test_cpu_bombs_end_at_the_time_limit(text: str) -> None:
    renderer = Renderer()
    started = time.monotonic()
    finding = only(render_value(text, renderer=renderer)[1])
    elapsed = time.monotonic() - started
    assert finding.rule == "template/timeout"
    assert TIME_LIMIT <= elapsed < TIME_LIMIT + 1.0
    started = time.monotonic()  # the same template is not run a second time (e.g. once per matrix combination)
    assert render_value(text, renderer=renderer)[1] == [finding]
    assert time.monotonic() - started < TIME_LIMIT / 2  # a second run would take the whole limit again


def test_the_time_limit_also_holds_outside_the_main_thread() -> None:
    results: list[list[Finding]] = []
    text = "{% for a in range(10000) %}{% for b in range(10000) %}{% endfor %}{% endfor %}"
    worker = threading.Thread(target=lambda: results.append(render_value(text)[1]))
    worker.start()
    worker.join(timeout=5)
    assert not worker.is_alive() and rules(results[0]) == ["template/timeout"]


def test_constant_expressions_are_not_evaluated_at_compile_time() -> None:
    # Jinja folds constant filters while compiling; a bomb there would run outside any limit.
    started = time.monotonic()
    assert rules(render_value("{{ 5|round(-1000000000)|string }}")[1]) == ["template/too-large"]
    assert time.monotonic() - started < 1.0


def test_deep_nesting_is_a_finding_not_a_crash() -> None:
    assert rules(render_value("{{ " + "(" * 5000 + "1" + ")" * 5000 + " }}")[1]) == ["template/syntax"]
    assert rules(render_value("{{ 1e999 }}")[1]) == ["template/syntax"]


def test_a_template_longer_than_the_limit_is_not_compiled() -> None:
    assert rules(render_value("{{ x }}" + "y" * MAX_OUTPUT)[1]) == ["template/too-large"]


@pytest.mark.parametrize(("text", "expected"), [
    ("{{ ([[1]]*50000)|sum(start=[])|length }}", 50000),  # Python's sum(): seconds of quadratic copying in one C call
    ("{{ ([(1,)]*50000)|sum(start=())|length }}", 50000),
    ("{{ [[1], [2, 3]]|sum(start=[0]) }}", [0, 1, 2, 3]),
    ("{{ [1, 2, 3]|sum }}", 6),
    ("{{ [{'n': 1}, {'n': 2}]|sum(attribute='n', start=10) }}", 13),
])
def test_sum_concatenates_in_linear_time_within_the_limits(text: str, expected: JSONValue) -> None:
    started = time.monotonic()
    assert render_value(text) == (expected, [])
    assert time.monotonic() - started < TIME_LIMIT  # generous: the old sum() took 4.8 s, then timed out


@pytest.mark.parametrize(("text", "rule"), [
    ("{{ [[1], (2,)]|sum(start=[]) }}", "template/error"),  # what `+` refuses, sum refuses
    ("{{ ([[1] * 4000] * 30)|sum(start=[1] * 40000)|length }}", "template/too-large"),
])
def test_sum_refuses_what_plus_would_refuse(text: str, rule: str) -> None:
    assert rules(render_value(text)[1]) == [rule]


def test_one_budget_is_shared_by_every_value_of_a_renderer() -> None:
    renderer = Renderer(LintBudget(LintLimits(seconds=1.5)))
    slow = "{% for a in range(10000) %}{% for b in range(10000) %}{% endfor %}{% endfor %}"
    started = time.monotonic()
    first = only(render_value(slow + "1", renderer=renderer)[1])
    second = only(render_value(slow + "2", renderer=renderer)[1])
    third = only(render_value("{{ lookback_days }}", renderer=renderer)[1])
    assert time.monotonic() - started < 5  # three values, not three seconds and more
    assert (first.rule, second.rule, third.rule) == ("template/timeout", "template/budget", "template/not-checked")
    assert second.message.startswith("the lint's template time budget (1.5 s) is spent here")
    assert "was spent at queries/q.yaml:2:4" in third.message


# --- values that are not JSON, and other errors ---------------------------------------------------------------------

@pytest.mark.parametrize(("text", "words"), [
    ("{{ range }}", "function"),
    ("{{ types|map('upper') }}", "add '|list'"),
    ("{{ fragments.items() }}", "dict_items"),
    ("{{ {1: 'a'} }}", "JSON keys are strings"),
    ("{{ 1e308 * 10 }}", "inf"),
])
def test_values_without_a_json_form_are_findings(text: str, words: str) -> None:
    finding = only(render_value(text)[1])
    assert finding.rule == "template/not-json" and words in finding.message


@pytest.mark.parametrize("text", ["{{ types + 1 }}", "{{ 'a' < 1 }}", "{{ types[5] + 1 }}"])
def test_other_errors_are_one_line_findings(text: str) -> None:
    finding = only(render_value(text)[1])
    assert finding.rule in {"template/error", "template/undefined"} and "\n" not in finding.message
    assert "Traceback" not in finding.message


# --- caching --------------------------------------------------------------------------------------------------------

def test_templates_are_compiled_once_per_source_and_rendered_per_variables() -> None:
    renderer = Renderer()
    text = "{{ lookback_days * 2 }}"
    assert render_value(text, renderer=renderer)[0] == 180
    assert render_value(text, {"lookback_days": 5}, renderer=renderer)[0] == 10
    assert renderer.compiled_count == 1
    render_value("{{ lookback_days }}", renderer=renderer)
    assert renderer.compiled_count == 2


def test_rendering_many_values_is_fast() -> None:
    renderer = Renderer()
    texts = [f"{{{{ lookback_days + {i % 50} }}}} days in {{{{ environment }}}}" for i in range(2000)]
    started = time.monotonic()
    for text in texts:
        assert render_value(text, renderer=renderer)[1] == []
    assert time.monotonic() - started < 2.0


def test_names_the_template_sets_are_known_but_not_outside_their_scope() -> None:
    assert render_value("{% set n = 3 %}{{ n }}") == ("3", [])
    finding = only(render_value("{% for t in types %}{% endfor %}{{ t }}")[1])
    assert finding.rule == "template/undefined" and finding.message == "undefined variable 't'"
