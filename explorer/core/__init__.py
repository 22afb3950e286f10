"""The computation core of Calculus Explorer: pure NumPy / SymPy / SciPy, no Qt.

The public API is re-exported here lazily (PEP 562), so that ``import explorer.core.session``
does not pay for importing SymPy: the app paints its window first and loads SymPy after.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "ExpressionError": "expression",
    "Function": "expression",
    "parse": "expression",
    "tangent": "calculus",
    "difference_quotient": "calculus",
    "Taylor": "calculus",
    "taylor": "calculus",
    "taylor_coefficients": "calculus",
    "TaylorPlan": "calculus",
    "plan_taylor": "calculus",
    "tolerance_interval": "calculus",
    "inflection_points": "calculus",
    "CriticalPoint": "calculus",
    "critical_points": "calculus",
    "RULES": "integration",
    "DISTRIBUTIONS": "integration",
    "RiemannBoxes": "integration",
    "riemann_boxes": "integration",
    "riemann_sum": "integration",
    "Integral": "integration",
    "antiderivative": "integration",
    "integral": "integration",
    "Accumulation": "integration",
    "accumulation": "integration",
    "Distribution": "integration",
    "distribution": "integration",
    "expectation": "integration",
    "MonteCarlo": "integration",
    "monte_carlo": "integration",
    "MonteCarloRun": "integration",
    "monte_carlo_run": "integration",
    "KINDS": "multivariate",
    "LANDSCAPES": "multivariate",
    "classify_hessian": "multivariate",
    "directional_derivative": "multivariate",
    "HessianInfo": "multivariate",
    "hessian_info": "multivariate",
    "jacobian": "multivariate",
    "cross_section": "multivariate",
    "Grid": "multivariate",
    "evaluate_grid": "multivariate",
    "contour_levels": "multivariate",
    "contour_lines": "multivariate",
    "contour_through": "multivariate",
    "gradient_field": "multivariate",
    "QuadraticModel": "multivariate",
    "quadratic_model": "multivariate",
    "quadratic_model_grid": "multivariate",
    "Optimizer": "optimizers",
    "SGD": "optimizers",
    "Adagrad": "optimizers",
    "RMSprop": "optimizers",
    "Adam": "optimizers",
    "AdamW": "optimizers",
    "Newton": "optimizers",
    "LBFGS": "optimizers",
    "OPTIMIZERS": "optimizers",
    "make_optimizer": "optimizers",
    "Schedule": "optimizers",
    "SCHEDULES": "optimizers",
    "Run": "optimizers",
    "Trajectory": "optimizers",
    "optimize": "optimizers",
    "optimize_many": "optimizers",
    "lr_sweep": "optimizers",
    "stability_limit": "optimizers",
    "prepare": "optimizers",
    "Node": "graph",
    "Graph": "graph",
    "Step": "graph",
    "computational_graph": "graph",
    "GradientCheck": "graph",
    "gradient_check": "graph",
    "gradient_check_curve": "graph",
    "LayerChain": "graph",
    "layer_chain": "graph",
    "Dataset": "regression",
    "Stats": "regression",
    "least_squares": "regression",
    "mse_loss": "regression",
    "generate": "regression",
    "read_csv": "regression",
    "CsvError": "regression",
    "descend": "regression",
    "Session": "session",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'explorer.core' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
