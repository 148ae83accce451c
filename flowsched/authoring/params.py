"""DAG params: typed run arguments with defaults, validated by JSON schema.

A ``Param`` is its JSON schema plus a default, so the same check runs in the DAG file
(defaults, at definition time), in the UI or CLI (a trigger conf, from the serialized DAG,
without importing user code) and in the runner (the resolved values a task sees).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from flowsched.authoring.resolvable import Resolvable
from flowsched.exceptions import ParamValidationError

if TYPE_CHECKING:
    from flowsched.authoring.dag import DAG


class _NotSet:
    def __repr__(self) -> str:
        return "NOTSET"


NOTSET: Any = _NotSet()


class Param:
    """``Param(5, type="integer", minimum=1)``: keyword arguments are JSON schema keywords."""

    def __init__(self, default: Any = NOTSET, description: str | None = None, **schema: Any):
        self.value = default
        self.description = description
        self.schema = schema

    @property
    def has_default(self) -> bool:
        return self.value is not NOTSET

    def resolve(self, value: Any = NOTSET, name: str = "") -> Any:
        """The value a run uses: ``value`` from the run conf if given, else the default."""
        final = self.value if value is NOTSET else value
        if final is NOTSET:
            raise ParamValidationError(
                f"Param {name!r} has no default value and none was given in the run conf"
            )
        validate_value(final, self.schema, f"Invalid value for param {name!r}")
        return final

    def dump(self) -> dict[str, Any]:
        """Serialized form; "default" is absent when the param has none (it is required)."""
        data: dict[str, Any] = {"schema": self.schema, "description": self.description}
        if self.has_default:
            data["default"] = self.value
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Param:
        return cls(data.get("default", NOTSET), data.get("description"), **data["schema"])

    def __repr__(self) -> str:
        return f"Param({self.value!r}, schema={self.schema!r})"


def validate_value(value: Any, schema: Mapping[str, Any], prefix: str) -> None:
    if not schema:
        return
    import jsonschema

    try:
        jsonschema.validate(value, schema, format_checker=jsonschema.FormatChecker())
    except jsonschema.ValidationError as err:
        raise ParamValidationError(f"{prefix}: {err.message}") from None
    except jsonschema.SchemaError as err:
        raise ParamValidationError(
            f"{prefix}: the schema itself is invalid: {err.message}"
        ) from None


def to_params(params: Mapping[str, Any] | None, owner: str) -> dict[str, Param]:
    """Wrap plain values as Params and check every default now, naming ``owner`` and the param."""
    result: dict[str, Param] = {}
    for name, value in (params or {}).items():
        param = value if isinstance(value, Param) else Param(value)
        if param.has_default:
            validate_value(param.value, param.schema, f"{owner}: default of param {name!r}")
        result[name] = param
    return result


def params_from_serialized(data: Mapping[str, Mapping[str, Any]]) -> dict[str, Param]:
    return {name: Param.from_dict(item) for name, item in data.items()}


class ParamsDict(dict):
    """A run's param values by name: what ``context["params"]`` is (Airflow's type of the
    same name, which DAG files use in annotations)."""

    def dump(self) -> dict[str, Any]:
        """The values as a plain dict."""
        return dict(self)


def resolve_params(dag_params: Mapping[str, Any], conf: Mapping[str, Any] | None) -> ParamsDict:
    """Param values of one run: each param's default, overridden and validated by the conf.

    Conf keys that are not params are passed through, as Airflow does, so ``params.x``
    works for ad-hoc keys of a manual trigger.
    """
    conf = conf or {}
    resolved = ParamsDict()
    for name, value in dag_params.items():
        param = value if isinstance(value, Param) else Param(value)
        resolved[name] = param.resolve(conf.get(name, NOTSET), name)
    for name, value in conf.items():
        resolved.setdefault(name, value)
    return resolved


class DagParam(Resolvable):
    """What a ``@dag`` function receives for each of its arguments: the param's run value."""

    def __init__(self, dag: DAG, name: str) -> None:
        self.dag = dag
        self.name = name

    def resolve(self, context: dict[str, Any]) -> Any:
        return context["params"][self.name]

    def __repr__(self) -> str:
        return f"DagParam({self.name!r})"
