"""PythonSensor: wait until a Python callable returns something truthy."""

from __future__ import annotations

from typing import Any

from flowsched.operators.python import PythonCallableMixin
from flowsched.sensors.base import BaseSensorOperator, PokeReturnValue


class PythonSensor(PythonCallableMixin, BaseSensorOperator):
    """The callable gets ``op_args``/``op_kwargs`` and the context keys it names, like
    PythonOperator's; it may return a PokeReturnValue to finish with an XCom value."""

    template_fields = ("templates_dict", "op_args", "op_kwargs")

    def poke(self, context: dict[str, Any]) -> bool | PokeReturnValue:
        kwargs = self._callable_kwargs(context)
        self.log.info("Poking callable: %s", getattr(self.python_callable, "__name__", "?"))
        result = self.python_callable(*self.op_args, **kwargs)
        return result if isinstance(result, PokeReturnValue) else bool(result)
