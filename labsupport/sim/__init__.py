"""Pure, deterministic simulation models.

Nothing under ``labsupport.sim`` imports ipywidgets, plotly or IPython (a test checks it): models can
run in a grader, a benchmark or a test with no UI installed.
"""

from labsupport.sim._engine import Simulation
from labsupport.sim._params import ParameterError, check_int, check_number, with_overrides
from labsupport.sim._trace import Event, EventQueue, Result, Schema, Series, Trace, generator

__all__ = ["Event", "EventQueue", "ParameterError", "Result", "Schema", "Series", "Simulation", "Trace", "check_int", "check_number", "generator", "with_overrides"]
