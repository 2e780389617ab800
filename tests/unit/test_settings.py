"""Settings: layers, camelCase keys, env overrides, bad keys reported and defaulted."""

from __future__ import annotations

from smallcode_ls.settings import Settings, parse_settings


def test_defaults_when_nothing_is_given() -> None:
    result = parse_settings(None, env={})
    assert result.settings == Settings()
    assert result.problems == ()


def test_later_layers_win_and_both_wrapped_and_bare_sections_are_accepted() -> None:
    result = parse_settings(
        {"smallcode": {"model": {"name": "init", "contextWindow": 4096}}},
        {"model": {"name": "workspace"}},
        env={},
    )
    assert result.settings.model.name == "workspace"
    assert result.settings.model.context_window == 4096


def test_environment_overrides_beat_every_layer() -> None:
    result = parse_settings(
        {"model": {"baseUrl": "http://from-settings"}},
        env={"SMALLCODE_BASE_URL": "http://127.0.0.1:9", "SMALLCODE_MODEL": "qwen"},
    )
    assert result.settings.model.base_url == "http://127.0.0.1:9"
    assert result.settings.model.name == "qwen"


def test_a_bad_key_is_named_defaulted_and_the_rest_still_applies() -> None:
    result = parse_settings(
        {
            "model": {"contextWindow": "huge", "name": "kept"},
            "context": {"budgetTokens": -5},
            "index": {"surprise": True},
        },
        env={},
    )
    assert result.settings.model.name == "kept"
    assert result.settings.model.context_window == Settings().model.context_window
    assert result.settings.context.budget_tokens == Settings().context.budget_tokens
    joined = "\n".join(result.problems)
    assert "smallcode.model.contextWindow" in joined
    assert "smallcode.context.budgetTokens" in joined
    assert "smallcode.index.surprise" in joined


def test_a_section_that_is_not_an_object_is_reported() -> None:
    result = parse_settings(["not", "an", "object"], env={})
    assert result.settings == Settings()
    assert result.problems and "expected an object" in result.problems[0]


def test_the_settings_reference_in_docs_matches_the_model() -> None:
    from pathlib import Path

    from smallcode_ls.settings import render_reference

    docs = Path(__file__).parents[2] / "docs" / "settings.md"
    assert docs.read_text(encoding="utf-8") == render_reference(), (
        "docs/settings.md is stale: regenerate it with "
        'python -c "from smallcode_ls.settings import render_reference as r; '
        "open('docs/settings.md','w').write(r())\""
    )
