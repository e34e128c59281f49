"""Airbyte-style template semantics: literal reading, falsy set, sandbox."""

from __future__ import annotations

import copy
import pickle

import pytest

from airflow_provider_analytics.source import templates
from airflow_provider_analytics.source.templates import (
    TemplateRenderError,
    check_template,
    is_falsy,
    render,
)

SEED_CURSOR = '{{ response.get("paging", {}).get("next", {}) }}'
SEED_STOP = '{{ not response.get("paging", {}).get("next", {}) }}'
NEXT = "https://api.example.com/v2/alerts?limit=100&sort=createdAt&offset=100&order=desc"


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{}", {}),
        ("None", None),
        ("True", True),
        ("False", False),
        ("42", 42),
        ("0.5", 0.5),
        ("[1, 2]", [1, 2]),
        ("()", ()),
        ("'quoted'", "quoted"),
        ("{{ 40 + 2 }}", 42),
        ("{{ {'a': 1} }}", {"a": 1}),
    ],
)
def test_rendered_text_is_read_as_literal(template, expected):
    assert render(template, {}) == expected
    assert type(render(template, {})) is type(expected)


@pytest.mark.parametrize("text", ["/v2/alerts?offset=100", NEXT, "hello world", "1j", "2+3j", "abc-42"])
def test_non_literal_and_complex_text_stays_text(text):
    assert render("{{ value }}", {"value": text}) == text


def test_seed_expressions_with_next_link():
    context = {"response": {"data": [1], "paging": {"next": NEXT, "first": "x"}}}
    assert render(SEED_CURSOR, context) == NEXT
    assert render(SEED_STOP, context) is False
    assert not is_falsy(render(SEED_CURSOR, context))


@pytest.mark.parametrize("body", [{"data": []}, {"data": [], "paging": {}}, {"paging": {"first": "x"}}])
def test_seed_expressions_without_next_link(body):
    context = {"response": body}
    assert render(SEED_CURSOR, context) == {}
    assert render(SEED_STOP, context) is True
    assert is_falsy(render(SEED_CURSOR, context))


@pytest.mark.parametrize(
    "value",
    [False, "False", "false", {}, [], (), set(), "", 0, 0.0, None, "None", "{}", "[]", "()", "0", "0.0"],
)
def test_falsy_set(value):
    assert is_falsy(value) is True


@pytest.mark.parametrize("value", [True, "True", "x", " ", 1, -1, 0.1, [0], {"a": None}, (None,), NEXT])
def test_truthy_values(value):
    assert is_falsy(value) is False


def test_undefined_variable_raises_naming_template():
    with pytest.raises(TemplateRenderError, match="nope") as info:
        render("{{ nope }}", {"response": {}})
    assert "{{ nope }}" in str(info.value)
    assert isinstance(info.value, ValueError)


def test_undefined_in_boolean_context_raises():
    with pytest.raises(TemplateRenderError):
        render("{{ not missing }}", {})


def test_render_error_does_not_show_context_values():
    context = {"response": {"token": "s3cr3t-value"}, "config": {"api_key": "k3y-value"}}
    for template in (
        "{{ response.token.startswith(1) }}",
        "{{ 1 / 0 }}",
        "{{ response.token | int + response.nothing }}",
        "{{ config.api_key.missing_attribute.deeper }}",
    ):
        with pytest.raises(TemplateRenderError) as info:
            render(template, context)
        message = str(info.value)
        assert template[:20] in message
        assert "s3cr3t" not in message and "k3y" not in message


def test_check_template_reports_syntax_errors():
    check_template(SEED_CURSOR)
    check_template(SEED_STOP)
    with pytest.raises(TemplateRenderError, match="syntax error") as info:
        check_template('{{ response.get("paging" }}')
    assert "response.get" in str(info.value)
    with pytest.raises(TemplateRenderError):
        check_template("{% if x %}no end")
    with pytest.raises(TemplateRenderError, match="string"):
        check_template(42)  # type: ignore[arg-type]


def test_check_template_does_not_render():
    # Undefined names are only an error when rendered.
    check_template("{{ not_defined_yet }}")


@pytest.mark.parametrize(
    "template",
    [
        "{{ response.__class__ }}",
        "{{ ''.__class__.__mro__ }}",
        "{{ response.get.__globals__ }}",
        "{{ cycler.__init__.__globals__ }}",
        "{{ config.update({'a': 1}) }}",
        "{{ response.data.append(1) }}",
    ],
)
def test_sandbox_blocks_internals_and_mutation(template):
    context = {"response": {"data": []}, "config": {}}
    with pytest.raises(TemplateRenderError):
        render(template, context)
    assert context == {"response": {"data": []}, "config": {}}


def test_compiled_templates_are_cached_by_text():
    template = "{{ 'cache-me' }}"
    render(template, {})
    compiled = templates.compiled(template)
    render(template, {})
    assert templates.compiled(template) is compiled


def test_objects_holding_template_text_stay_copyable():
    holder = {"cursor": SEED_CURSOR}
    render(holder["cursor"], {"response": {}})
    assert pickle.loads(pickle.dumps(holder)) == holder
    assert copy.deepcopy(holder) == holder
