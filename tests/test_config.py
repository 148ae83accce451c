"""Configuration: defaults, then flowsched.toml, then FLOWSCHED__SECTION__KEY."""

from __future__ import annotations

import pytest

from flowsched.config import ConfigError, conf, mask_value


def test_defaults_live_under_the_home(home):
    assert conf.get("core", "dags_folder") == str(home / "dags")  # set by the fixture
    assert conf.get("logging", "base_log_folder") == str(home / "logs")
    assert conf.source("logging", "base_log_folder") == "default"


def test_file_overrides_defaults_and_env_overrides_file(home, monkeypatch):
    (home / "flowsched.toml").write_text("[core]\nparallelism = 4\n")
    assert conf.getint("core", "parallelism") == 4
    assert conf.source("core", "parallelism") == "file"

    monkeypatch.setenv("FLOWSCHED__CORE__PARALLELISM", "9")
    assert conf.getint("core", "parallelism") == 9
    assert conf.source("core", "parallelism") == "env"


def test_edited_file_is_seen_without_restart(home):
    config_file = home / "flowsched.toml"
    config_file.write_text("[webserver]\nport = 8081\n")
    assert conf.getint("webserver", "port") == 8081
    config_file.write_text("[webserver]\nport = 8082\n# changed\n")
    assert conf.getint("webserver", "port") == 8082


def test_typed_getters_name_the_bad_value(home, monkeypatch):
    monkeypatch.setenv("FLOWSCHED__CORE__PARALLELISM", "many")
    with pytest.raises(ConfigError, match=r"\[core\] parallelism must be int, got 'many'"):
        conf.getint("core", "parallelism")
    monkeypatch.setenv("FLOWSCHED__SMTP__STARTTLS", "perhaps")
    with pytest.raises(ConfigError, match="true or false"):
        conf.getbool("smtp", "starttls")


def test_lists_come_from_toml_or_comma_separated_env(home, monkeypatch):
    (home / "flowsched.toml").write_text('[alerts]\nemail = ["a@x.org", "b@x.org"]\n')
    assert conf.getlist("alerts", "email") == ["a@x.org", "b@x.org"]
    monkeypatch.setenv("FLOWSCHED__ALERTS__EMAIL", "c@x.org, d@x.org")
    assert conf.getlist("alerts", "email") == ["c@x.org", "d@x.org"]


def test_keys_read_through_their_section_are_typed(home, monkeypatch):
    monkeypatch.setenv("FLOWSCHED__CORE__PARALLELISM", "9")
    monkeypatch.setenv("FLOWSCHED__SMTP__STARTTLS", "yes")
    monkeypatch.setenv("FLOWSCHED__ALERTS__WEBHOOK_URLS", "http://a, http://b")

    assert conf.core.parallelism == 9
    assert conf.smtp.starttls is True
    assert conf.alerts.webhook_urls == ["http://a", "http://b"]
    assert conf.scheduler.zombie_threshold == 60.0
    assert conf.logging.base_log_folder == str(home / "logs")


def test_a_typo_in_code_is_an_error_even_when_the_file_has_the_key(home):
    (home / "flowsched.toml").write_text("[core]\nparalelism = 4\n")
    with pytest.raises(ConfigError, match=r"unknown config option \[core\] paralelism"):
        conf.get("core", "paralelism")
    with pytest.raises(ConfigError, match=r"unknown config option \[nope\] parallelism"):
        conf.get("nope", "parallelism")
    with pytest.raises(ConfigError, match=r"\[core\] parallelism is declared int, not float"):
        conf.getfloat("core", "parallelism")


def test_unknown_option_and_broken_file_are_clear_errors(home):
    with pytest.raises(ConfigError, match=r"unknown config option \[core\] nope"):
        conf.get("core", "nope")
    (home / "flowsched.toml").write_text("[core\n")
    with pytest.raises(ConfigError, match=r"cannot read .*flowsched\.toml"):
        conf.get("core", "parallelism")


def test_secrets_are_declared_and_masked_but_urls_stay_readable():
    assert conf.is_secret("smtp", "password")
    assert conf.is_secret("database", "sql_alchemy_conn")
    assert not conf.is_secret("core", "parallelism")
    assert mask_value("hunter2") == "***"
    masked = mask_value("postgresql+psycopg://app:hunter2@db/flowsched")
    assert "hunter2" not in masked
    assert masked.startswith("postgresql+psycopg://app:")
