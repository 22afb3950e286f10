"""The optimizer runner compiled with numba: every stepped run of ``optimize_many`` in one
nopython loop, the gradient compiled from the same SymPy expressions as NumPy's.

The update rules are not repeated here: the kernel calls :mod:`.optimizers`' own rule
functions (``sgd_rule``, ``adam_rule``, Newton's ``solve2``...), compiled by numba and applied
one coordinate at a time. Noise, clipping, schedules, state history and the stop rules mirror
``optimizers._step_with_numpy`` operation for operation, so both paths give the same runs: to
the bit where the gradient uses arithmetic, sqrt, sin, cos; NumPy's own vectorised exp, log,
tanh and pow may differ from libm's (numba's) in the last bit.

Nothing here imports numba until :func:`prepare` runs. It blocks: importing numba takes about
0.3 s; the kernel compiles once per machine (5-7 s) and then loads from numba's disk cache
(about 0.5 s); each new expression's gradient and Hessian take about 0.7 s, kept in memory
(parameter values are arguments, so they need no new compile). :func:`run` never compiles: it
takes what is ready or answers None, and the caller steps with NumPy. A failure to load numba
or to compile an expression means None, never an exception.
"""

from __future__ import annotations

import functools
import math
import threading
from collections import OrderedDict

import numpy as np

from . import optimizers as _opt

CACHE_SIZE = 32  # compiled expressions kept (least recently used dropped)

_COMPILE_LOCK = threading.Lock()  # one compile at a time, held for seconds
_CACHE_LOCK = threading.Lock()  # held only to look up or store: run() never waits for a compile
_numba = None  # the module once loaded; False when it cannot be imported or compiled
_kernel = None
_no_hessian = None
_CACHE: OrderedDict = OrderedDict()  # _key(f) -> _Partials
_UNTRIED = object()
last_error: BaseException | None = None  # why the last load or compile failed, for debugging

# Optimizer classes the kernel runs -> (kind, the hyper-parameters it passes to the rule)
_SGD, _ADAGRAD, _RMSPROP, _ADAM, _NEWTON = range(5)
_KINDS = {
    _opt.SGD: (_SGD, lambda o: (o.momentum, o.dampening, o.weight_decay, o.nesterov)),
    _opt.Adagrad: (_ADAGRAD, lambda o: (o.lr_decay, o.weight_decay, o.eps)),
    _opt.RMSprop: (_RMSPROP, lambda o: (o.alpha, o.eps, o.weight_decay, o.momentum,
                                        o.centered)),
    _opt.Adam: (_ADAM, lambda o: (*o.betas, o.eps, o.weight_decay, o.amsgrad, o.decoupled)),
    _opt.AdamW: (_ADAM, lambda o: (*o.betas, o.eps, o.weight_decay, o.amsgrad, o.decoupled)),
    _opt.Newton: (_NEWTON, lambda o: (o.damping,)),
}
_HYPER = 6  # the most hyper-parameters a kind passes


class _Partials:
    """The compiled gradient and Hessian of one expression (each ``fn(x, params, out)``),
    None where numba could not compile it, _UNTRIED before anyone asked."""

    __slots__ = ("gradient", "hessian")

    def __init__(self):
        self.gradient = _UNTRIED
        self.hessian = _UNTRIED

    def ready(self, hessian: bool) -> bool:
        compiled = (None, _UNTRIED)
        return self.gradient not in compiled and not (hessian and self.hessian in compiled)


# -- public --------------------------------------------------------------------------------------
def prepare(f, hessian: bool = True) -> bool:
    """Compile what the kernel needs for ``f`` (blocking; see optimizers.prepare)."""
    global last_error
    key = _key(f)
    if key is None:
        return False
    entry = _lookup(key)
    if _numba and entry is not None and entry.ready(hessian):
        return True
    with _COMPILE_LOCK:
        if not _load():
            return False
        entry = _lookup(key) or _Partials()
        n = len(f.variables)
        try:
            if entry.gradient is _UNTRIED:
                entry.gradient = _compile(f, tuple((v,) for v in f.variables), n)
            if hessian and entry.hessian is _UNTRIED:
                paths = tuple((a, b) for a in f.variables for b in f.variables)
                entry.hessian = _compile(f, paths, n * n)
        except Exception as exc:  # SymPy failing to differentiate, say: no fast path
            last_error = exc
            entry.gradient = None if entry.gradient is _UNTRIED else entry.gradient
            entry.hessian = None if entry.hessian is _UNTRIED and hessian else entry.hessian
        with _CACHE_LOCK:
            _CACHE[key] = entry
            while len(_CACHE) > CACHE_SIZE:
                _CACHE.popitem(last=False)
    return entry.ready(hessian)


def ready(f, hessian: bool = False) -> bool:
    """Whether ``f``'s gradient (and Hessian) are compiled, without compiling anything."""
    key = _key(f)
    entry = _lookup(key) if key is not None else None
    return entry is not None and entry.ready(hessian)


def run(f, rows, steps: int, tol: float, check_every: int) -> int | None:
    """Step ``rows`` (optimizers._Rows) with the kernel when ``f`` is prepared for them; fills
    their points, gradients and history as optimizers._step_with_numpy does and returns the
    last step, or None (nothing done) when the kernel cannot take them. Never compiles."""
    global last_error
    key = _key(f)
    if key is None or not _numba:
        return None
    entry = _lookup(key)
    if entry is None or not entry.ready(False):
        return None
    n = rows.points.shape[2]
    kinds = np.empty(len(rows.runs), dtype=np.int64)
    hyper = np.zeros((len(rows.runs), _HYPER))
    for i, r in enumerate(rows.runs):
        spec = _KINDS.get(type(r.optimizer))
        if spec is None:  # a class of someone's own: NumPy steps it
            return None
        kinds[i] = spec[0]
        values = spec[1](r.optimizer)
        hyper[i, : len(values)] = values
    hessian = _no_hessian
    if np.any(kinds == _NEWTON):
        if n > 2 or not entry.ready(True):
            return None
        hessian = entry.hessian
    noise_at = np.full(len(rows.runs), -1, dtype=np.int64)
    noise_at[rows.noisy] = np.arange(len(rows.noisy))
    params = np.array(list(f.parameters.values()), dtype=float).reshape(-1)
    try:
        last = _kernel(entry.gradient, hessian, params, kinds, hyper, rows.rates, rows.clips,
                       noise_at, rows.noise, steps, float(tol), check_every, rows.points,
                       rows.grads, rows.history, rows.history[:, :, 0].copy(),
                       np.zeros(len(kinds), dtype=np.int64), np.empty(n), np.empty(n),
                       np.empty(n), np.empty(n * n))
    except Exception as exc:  # not expected; NumPy redoes the steps (it overwrites them all)
        last_error = exc
        return None
    return int(last)


def _lookup(key):
    with _CACHE_LOCK:
        entry = _CACHE.get(key)
        if entry is not None:
            _CACHE.move_to_end(key)
        return entry


# -- compiling -----------------------------------------------------------------------------------
def _key(f):
    try:
        return (f.expr, tuple(f._all_symbols), tuple(f.variables))
    except AttributeError:  # not a parsed Function: NumPy only
        return None


def _load() -> bool:
    """Import numba and compile the kernel, once; False (remembered) if either fails."""
    global _numba, _kernel, _no_hessian, last_error
    if _numba is not None:
        return bool(_numba)
    try:
        import numba

        _kernel, _no_hessian = _build(numba)
        _numba = numba
    except Exception as exc:  # no numba, or one that cannot compile this: NumPy only
        last_error = exc
        _numba = False
    return bool(_numba)


def _compile(f, paths, size):
    """numba's ``fn(x, params, out)`` writing the partials of ``f`` along ``paths`` at ``x``
    with parameter values ``params`` (NumPy's ``_compile`` of the same expressions, printed by
    the same lambdify); None if numba cannot compile it."""
    global last_error
    import sympy as sp

    from .expression import _numeric_form, max_, min_

    numba = _numba
    symbols = tuple(f._all_symbols)
    safe = [sp.Symbol(f"_s{i}", real=True) for i in range(len(symbols))]
    exprs = sp.Tuple(*(f.diff(*p).expr for p in paths))
    exprs = _numeric_form(exprs).xreplace(dict(zip(symbols, safe, strict=True)))
    # max(a, b, c) is NumPy's reduce of maximum: maximum(maximum(a, b), c), pairwise here
    pair_max, pair_min = sp.Function("_max2"), sp.Function("_min2")
    if exprs.has(max_, min_):
        exprs = exprs.replace(max_, lambda *a: functools.reduce(pair_max, a))
        exprs = exprs.replace(min_, lambda *a: functools.reduce(pair_min, a))
    try:
        scalar = sp.lambdify(safe, exprs, modules=[_scalar_namespace(), "numpy"])
        n, m = len(f.variables), len(symbols)
        args = [f"x[{i}]" for i in range(n)] + [f"p[{j}]" for j in range(m - n)]
        source = "def partials(x, p, out):\n    r = scalar({})\n".format(", ".join(args))
        source += "".join(f"    out[{k}] = r[{k}]\n" for k in range(size))
        source += "    for k in range(out.size):\n        if not isfinite(out[k]):\n"
        source += "            out[k] = nan\n"  # NaN where not finite, as Function's
        namespace = {"scalar": numba.njit(error_model="numpy")(scalar),
                     "isfinite": math.isfinite, "nan": math.nan}
        exec(source, namespace)  # safe: built from indices only, no user text reaches it
        return _address(numba.njit(_SIGNATURE, error_model="numpy")(namespace["partials"]))
    except Exception as exc:  # what numba cannot type (select, big integers, ...): NumPy
        last_error = exc
        return None


@functools.cache
def _scalar_namespace():
    """Scalar, numba-compiled versions of expression._NUMERIC, with NumPy's arithmetic."""
    jit = _numba.njit(error_model="numpy")

    @jit
    def sigmoid(z):  # numeric.sigmoid
        e = np.exp(-abs(z))
        if z >= 0:
            return 1.0 / (1.0 + e)
        return e / (1.0 + e)

    @jit
    def softplus(z):  # numeric.softplus: np.logaddexp(0, z), as NumPy computes it
        if z == 0.0:
            return 0.0 + 0.6931471805599453  # log(2)
        tmp = 0.0 - z
        if tmp > 0:
            return 0.0 + math.log1p(math.exp(-tmp))
        if tmp <= 0:
            return z + math.log1p(math.exp(tmp))
        return tmp

    @jit
    def erf(z):
        return math.erf(z)

    @jit
    def heaviside(z, h0):  # np.heaviside
        if z != z:
            return np.nan
        if z == 0:
            return float(h0)
        if z < 0:
            return 0.0
        return 1.0

    @jit
    def tie_step(z):
        return heaviside(z, 0.5)

    @jit
    def max2(a, b):  # np.maximum: NaN wins
        return float(a) if a >= b or a != a else float(b)

    @jit
    def min2(a, b):  # np.minimum
        return float(a) if a <= b or a != a else float(b)

    return {"sigmoid": sigmoid, "softplus": softplus, "erf": erf, "Heaviside": heaviside,
            "tie_step": tie_step, "_max2": max2, "_min2": min2}


_SIGNATURE = None  # numba's "void(float64[::1], float64[::1], float64[::1])", set by _build


# -- the kernel ----------------------------------------------------------------------------------
def _build(numba):
    """Compile the kernel: the gradient and Hessian are first-class function arguments, so
    one compiled kernel serves every expression. It is cached on disk (numba's cache,
    stamped with the source of this module and of optimizers.py, whose rules it compiles in),
    so only the first process compiles it."""
    global _SIGNATURE, _sgd, _adagrad, _rmsprop, _adam, _solve2, _least_norm2, _norm, _solve
    from numba import types

    jit = numba.njit(error_model="numpy")
    _sgd, _adagrad = jit(_opt.sgd_rule), jit(_opt.adagrad_rule)
    _rmsprop, _adam = jit(_opt.rmsprop_rule), jit(_opt.adam_rule)
    _solve2, _least_norm2 = jit(_opt.solve2), jit(_opt.least_norm2)
    _norm, _solve = jit(_norm_py), jit(_solve_py)
    array, matrix, cube = types.float64[::1], types.float64[:, ::1], types.float64[:, :, ::1]
    _SIGNATURE = types.void(array, array, array)
    fn = types.FunctionType(_SIGNATURE)
    signature = types.int64(
        fn, fn, array, types.int64[::1], matrix, matrix, array, types.int64[::1], cube,
        types.int64, types.float64, types.int64, cube, cube, types.float64[:, :, :, ::1], cube,
        types.int64[::1], array, array, array, array)
    try:
        _define_compiled(fn)
    except Exception:  # a numba without this protocol: pass the dispatchers themselves
        pass
    cache = _use_disk_cache(numba)
    kernel = numba.njit(signature, error_model="numpy", nogil=True, cache=cache)(_kernel_py)
    return kernel, _address(numba.njit(_SIGNATURE, cache=cache)(_nothing_py))


_Compiled = None  # defined by _define_compiled


def _define_compiled(fn_type):
    """The class of the gradient and Hessian arguments: numba's wrapper address protocol,
    with the address and the numba type looked up once (for a dispatcher numba looks up both
    at every call of the kernel, 0.1 ms each)."""
    global _Compiled
    from numba.core.types.function_type import WrapperAddressProtocol
    from numba.core.typing.typeof import typeof_impl
    from numba.experimental.function_type import _get_wrapper_address

    class Compiled(WrapperAddressProtocol):
        def __init__(self, dispatcher):
            self.dispatcher = dispatcher  # keeps the code alive
            self.address = _get_wrapper_address(dispatcher, _SIGNATURE)

        def __wrapper_address__(self):
            return self.address

        def signature(self):
            return _SIGNATURE

    typeof_impl.register(Compiled)(lambda value, context: fn_type)
    _Compiled = Compiled


def _address(dispatcher):
    """A compiled ``fn(x, params, out)`` as the kernel takes it (see _define_compiled)."""
    return _Compiled(dispatcher) if _Compiled is not None else dispatcher


def _use_disk_cache(numba) -> bool:
    """Put this module's compiled functions in numba's cache directory, stamped with the
    content of this file and of optimizers.py (numba's own stamp covers only the file that
    defines the function, and the kernel compiles in the rules of optimizers.py). False
    when this numba has no such locator API or the directory is not writable: then every
    process compiles."""
    try:
        import hashlib

        from numba.core import caching

        def public(name):  # older numba versions spell these with a leading underscore
            return getattr(caching, name, None) or getattr(caching, "_" + name)

        base = public("UserProvidedCacheLocator" if numba.config.CACHE_DIR
                      else "UserWideCacheLocator")
        locators = public("CacheImpl")._locator_classes
        if any(getattr(c, "_explorer", False) for c in locators):
            return True
        digest = hashlib.sha256()
        for path in (__file__, _opt.__file__):
            with open(path, "rb") as fh:
                digest.update(fh.read())
        stamp = digest.hexdigest()

        class Locator(base):
            _explorer = True

            def get_source_stamp(self):
                return stamp

            @classmethod
            def from_function(cls, py_func, py_file):
                if getattr(py_func, "__module__", None) != __name__:
                    return None
                return super().from_function(py_func, py_file)

        if Locator.from_function(_kernel_py, __file__) is None:
            return False  # not writable: no cache (numba's own locators would miss the rules)
        locators.insert(0, Locator)
        return True
    except Exception:
        return False


def _nothing_py(x, p, out):
    """The Hessian argument when no run needs one."""
    for k in range(out.size):
        out[k] = np.nan


_sgd = _adagrad = _rmsprop = _adam = _solve2 = _least_norm2 = _norm = _solve = None  # by _build


def _norm_py(g):
    """sqrt(sum(g * g)), summed in order (as optimizers._norms)."""
    total = 0.0
    for j in range(g.size):
        total += g[j] * g[j]
    return math.sqrt(total)


def _solve_py(h, damping, g, d):
    """d with (H + damping I) d = g for n <= 2, as optimizers._solve_rows solves it (with
    the same solve2 and least_norm2)."""
    if g.size == 1:
        a = h[0] + damping * 1.0
        d[0] = g[0] / a if a != 0 else 0.0 * g[0]
        return
    # the NumPy path's h + damping * eye(2)
    a00, a01 = h[0] + damping * 1.0, h[1] + damping * 0.0
    a10, a11 = h[2] + damping * 0.0, h[3] + damping * 1.0
    d0, d1, det = _solve2(a00, a01, a10, a11, g[0], g[1])
    if det == 0:
        d0, d1 = _least_norm2(a00, a01, a10, a11, g[0], g[1])
    d[0], d[1] = d0, d1


def _kernel_py(gradient, hessian, params, kinds, hyper, rates, clips, noise_at, noise, steps,
               tol, check_every, points, grads, history, state, converged, x, g, d, h):
    """optimizers._step_with_numpy, one row and one coordinate at a time. ``state`` starts as
    ``history[:, :, 0]``, ``converged`` as zeros (rows); x, g, d (n) and h (n * n) are scratch.
    (Element loops and no allocation: numba takes seconds longer to compile slice
    assignments and array constructors.)"""
    rows, slots, n = history.shape[0], history.shape[1], history.shape[3]
    last = steps
    for t in range(1, steps + 1):
        tf = float(t)
        for r in range(rows):
            for j in range(n):
                x[j] = points[r, t - 1, j]
            gradient(x, params, g)
            for j in range(n):
                grads[r, t - 1, j] = g[j]
            if _norm(g) <= tol:
                converged[r] = 1
            k = noise_at[r]
            if k >= 0:
                for j in range(n):
                    g[j] = g[j] + noise[t - 1, k, j]
            if math.isfinite(clips[r]):  # torch.nn.utils.clip_grad_norm_
                c = clips[r] / (_norm(g) + 1e-6)
                c = c if c <= 1.0 or c != c else 1.0  # np.minimum(c, 1.0)
                for j in range(n):
                    g[j] = g[j] * c
            lr, kind = rates[r, t - 1], kinds[r]
            p0, p1, p2, p3, p4, p5 = (hyper[r, 0], hyper[r, 1], hyper[r, 2], hyper[r, 3],
                                      hyper[r, 4], hyper[r, 5])
            # one loop per kind (a loop shared by all would run every kind's hoisted
            # invariants, Adam's powers of beta, for every row)
            b = state[r]
            if kind == _SGD:
                for j in range(n):
                    points[r, t, j], b[0, j] = _sgd(x[j], g[j], b[0, j], tf, lr, p0, p1, p2,
                                                    p3 != 0)
            elif kind == _ADAGRAD:
                for j in range(n):
                    points[r, t, j], b[0, j] = _adagrad(x[j], g[j], b[0, j], tf, lr, p0, p1, p2)
            elif kind == _RMSPROP:
                for j in range(n):
                    points[r, t, j], b[0, j], b[1, j], b[2, j] = _rmsprop(
                        x[j], g[j], b[0, j], b[1, j], b[2, j], tf, lr, p0, p1, p2, p3, p4 != 0)
            elif kind == _ADAM:
                for j in range(n):
                    points[r, t, j], b[0, j], b[1, j], b[2, j], b[3, j] = _adam(
                        x[j], g[j], b[0, j], b[1, j], b[2, j], tf, lr, p0, p1, p2, p3, p4 != 0,
                        p5 != 0)
            else:  # Newton: one solve for all coordinates
                hessian(x, params, h)
                _solve(h, p0, g, d)
                for j in range(n):
                    b[0, j] = -d[j]
                    points[r, t, j] = x[j] - lr * d[j]
            for s in range(slots):
                for j in range(n):
                    history[r, s, t, j] = state[r, s, j]
        if t % check_every == 0:
            stopped = True
            for r in range(rows):
                if converged[r] == 0:
                    gone = False
                    for j in range(n):
                        v = points[r, t, j]
                        gone = gone or not math.isfinite(v) or abs(v) > 1e150
                    stopped = stopped and gone
            if stopped:
                last = t
                break
    for r in range(rows):
        for j in range(n):
            x[j] = points[r, last, j]
        gradient(x, params, g)
        for j in range(n):
            grads[r, last, j] = g[j]
    return last
