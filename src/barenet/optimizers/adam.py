"""The Adam family, Keras's formulations: Adam (incl. AMSGrad), AdamW, Adamax, Nadam."""

from __future__ import annotations

import functools
import math

import numpy as np

from .. import fast
from ..reductions import total
from .adam_kernels import Declined, KernelPlan
from .base import Optimizer, _check_bool, _check_non_negative, _check_positive, _check_unit_interval


@functools.lru_cache(maxsize=8)
def _limits(dtype) -> tuple[float, float]:
    """`(max, eps)` of a float dtype, as Python floats (read every step)."""
    info = np.finfo(dtype)
    return float(info.max), float(info.eps)


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015).

        m = beta_1 m + (1 - beta_1) grad
        v = beta_2 v + (1 - beta_2) grad^2
        v_max = max(v_max, v)                  (amsgrad only; used in place of v)
        param -= lr sqrt(1 - beta_2^t) / (1 - beta_1^t) * m / (sqrt(v) + epsilon)

    Epsilon sits outside the bias correction of `v` (Keras's "epsilon hat"); PyTorch
    adds it after correcting, i.e. its `eps` is `epsilon / sqrt(1 - beta_2^t)`, which
    changes every step. The two agree exactly at `epsilon = eps = 0`.

    Args:
        learning_rate: Float or schedule. Defaults to 0.001.
        beta_1: In [0, 1). Defaults to 0.9.
        beta_2: In [0, 1). Defaults to 0.999.
        epsilon: Non-negative. Defaults to 1e-7.
        amsgrad: Use the running maximum of `v` (Reddi et al., 2018). Defaults to False.
        **kwargs: Common `Optimizer` arguments (`weight_decay`, clipping, `name`).
    """

    def __init__(self, learning_rate=0.001, beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: float = 1e-7, amsgrad: bool = False, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.beta_1 = _check_unit_interval("beta_1", beta_1)
        self.beta_2 = _check_unit_interval("beta_2", beta_2)
        self.epsilon = _check_non_negative("epsilon", epsilon)
        self.amsgrad = _check_bool("amsgrad", amsgrad)

    def init_slots(self, param):
        slots = {"m": np.zeros_like(param), "v": np.zeros_like(param)}
        if self.amsgrad:
            slots["v_max"] = np.zeros_like(param)
        return slots

    def update(self, param, grad, slots, lr):
        m, v, t = slots["m"], slots["v"], self.iterations
        if not self.amsgrad and type(self).update is Adam.update and fast.elementwise_ready(param, grad, m, v):
            return self._update_fast(param, grad, m, v, lr)
        # The same formulas, in place and in one scratch buffer: no temporaries per step, and
        # mostly operations whose output is one of their inputs, NumPy's fastest kind.
        scratch = self._scratch(param)
        m *= self.beta_1
        np.multiply(grad, 1 - self.beta_1, out=scratch)
        m += scratch
        v *= self.beta_2
        np.square(grad, out=scratch)
        scratch *= 1 - self.beta_2
        v += scratch
        if self.amsgrad:
            np.maximum(slots["v_max"], v, out=slots["v_max"])
            v = slots["v_max"]
        step = lr * math.sqrt(1 - self.beta_2**t) / (1 - self.beta_1**t)
        np.sqrt(v, out=scratch)
        scratch += self.epsilon
        np.divide(m, scratch, out=scratch)
        scratch *= step
        param -= scratch

    def _update_fast(self, param, grad, m, v, lr):
        """The same update in one pass (over the cores when large: `barenet.fast.elementwise_kernels`),
        to the bit."""
        views = (param.reshape(-1), grad.reshape(-1), m.reshape(-1), v.reshape(-1))
        blocks = fast.elementwise_blocks(param)
        if blocks == 1:
            fast.get_elementwise_kernels().adam_block(*views, *self._kernel_constants(lr))
        else:
            with fast.running(hold=False):
                fast.get_elementwise_kernels().adam_update(*views, *self._kernel_constants(lr), blocks)

    def _update_all(self, params, grads, lr) -> None:
        proven = self.__dict__.pop("_proven", None)  # the plan `_step_is_finite` used, this same call
        if proven is not None and proven[0] is params and proven[1] is grads:
            plan = proven[2]
        else:
            plan = self._plan(params, grads)
        if (plan is None or self.amsgrad or self.weight_decay or type(self).update is not Adam.update
                or not plan.attach(self.slots)):
            return super()._update_all(params, grads, lr)
        plan.update(self._kernel_constants(lr))

    def _kernel_constants(self, lr) -> tuple:
        """The kernels' float32 constants of this step (computed once a step)."""
        key = (self.iterations, lr)
        constants = self.__dict__.get("_constants")
        if constants is None or constants[0] != key:
            t, f32 = self.iterations, np.float32
            step = lr * math.sqrt(1 - self.beta_2**t) / (1 - self.beta_1**t)
            constants = self._constants = (key, (f32(self.beta_1), f32(1 - self.beta_1), f32(self.beta_2),
                                                 f32(1 - self.beta_2), f32(self.epsilon), f32(step)))
        return constants[1]

    def _plan(self, params, grads):
        """The kernels' plan for these arrays (`adam_kernels.KernelPlan`): the last one made, while
        it fits, else a new one. None where the kernels do not take them (the NumPy code runs)."""
        plans = self.__dict__.setdefault("_plans", [])
        for plan in plans:
            if plan.fits(params, grads):
                return plan
        declined = self.__dict__.get("_declined")
        if declined is not None and declined.fits(params, grads):
            return None
        plan = KernelPlan.make(params, grads)
        if plan is not None:  # two kept: under barenet.distributed the check and the update see other arrays
            plans[:] = [plan, *plans[:1]]
        else:
            self._declined = Declined(params, grads)
        return plan

    # --- proving a step finite (skips the copy-and-check guard; see Optimizer.apply_gradients) ------
    def _first_non_finite_gradient(self, params, grads) -> str | None:
        """As `Optimizer`'s; with the kernels, from the gradients' sums of squares, taken in one pass
        that also tells whether each weight is finite, and kept for this step's proof
        (`_step_is_finite`, `adam_kernels.KernelPlan.first_non_finite`)."""
        plan = self._plan(params, grads)
        if plan is None:
            return super()._first_non_finite_gradient(params, grads)
        return plan.first_non_finite(self.iterations)

    def _step_is_finite(self, params, grads, lr) -> bool:
        """True when this step provably keeps every parameter and slot finite.

        With `B` an upper bound on every |gradient entry| seen so far (hence on every |m|
        and sqrt(v), which are convex combinations of them, up to rounding), and epsilon > 0:
        v stays below `B^2`, `m / (sqrt(v) + epsilon)` below `B / epsilon`, and the step
        below `S = lr sqrt(1 - beta_2^t) / (1 - beta_1^t) B / epsilon`. A finite parameter
        moved by less than half a unit in the last place of the largest float cannot round
        to infinity, so `B^2` and `B / epsilon` below the dtype's max / 8 and `S` below
        `eps * max / 8` prove the step finite. `B` grows with each step's gradients:
        `sqrt(sum(g^2))` (one BLAS pass, NaN/inf when a gradient is), doubled against the
        sum's rounding; it is rebuilt from the slots after a guarded step or `set_state`.
        The parameters' finiteness is one BLAS sum each (with barenet.fast's kernels, one
        compiled call gives both sums, in float64, usually already taken when the training
        step checked the gradients: `_first_non_finite_gradient`). Decoupled weight decay only
        shrinks them (when `lr * weight_decay` is in [0, 1]).
        """
        decay = lr * self.weight_decay if self.weight_decay else 0.0
        if not self.epsilon > 0 or not 0 <= decay <= 1:
            return self._forget_bound()
        bound = self.__dict__.get("_gradient_bound")
        if bound is None:
            bound = self._bound_from_slots(params)
        plan = self._plan(params, grads)
        if plan is not None:
            sums, dtypes = plan.take_sums(self.iterations), (np.dtype(np.float32),)
            self._proven = (params, grads, plan)  # for the update that follows (`apply_gradients`)
        else:
            sums, dtypes = [], {param.dtype for param in params.values()}
            with np.errstate(over="ignore", invalid="ignore"):  # an overflow just fails the proof
                for key, param in params.items():
                    grad = grads[key]
                    if param.dtype.kind != "f" or grad.dtype != param.dtype:
                        return self._forget_bound()
                    flat = grad.reshape(-1)
                    sums.append((float(np.dot(flat, flat)), math.isfinite(total(param))))
        for squares, finite in sums:
            if not math.isfinite(squares) or not finite:
                return self._forget_bound()
            bound = max(bound, 2 * math.sqrt(squares))
        t = self.iterations + 1
        step = lr * math.sqrt(1 - self.beta_2**t) / (1 - self.beta_1**t) * bound / self.epsilon
        for dtype in dtypes:
            largest, eps = _limits(dtype)
            largest /= 8
            if not (bound * bound < largest and bound / self.epsilon < largest and step < eps * largest):
                return self._forget_bound()
        self._gradient_bound = bound
        return True

    def _forget_bound(self) -> bool:
        self._gradient_bound = None  # a guarded step follows: rebuild the bound from the slots next time
        return False

    def _bound_from_slots(self, params) -> float:
        """The largest |m| and sqrt(v) (and sqrt(v_max)) in the slots of `params` (0 without slots)."""
        bound = 0.0
        for key in params:
            for name, slot in self.slots.get(key, {}).items():
                if slot.size:
                    peak = float(np.max(np.abs(slot)))
                    if not math.isfinite(peak):  # NaN too: no bound, guard the step
                        return math.inf
                    bound = max(bound, peak if name == "m" else math.sqrt(peak))
        return bound

    def set_state(self, state: dict) -> None:
        super().set_state(state)
        self._gradient_bound = None

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon, "amsgrad": self.amsgrad}


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter, 2019).

    Each step first shrinks every parameter, `param *= 1 - lr * weight_decay`, then
    takes the Adam step: PyTorch's `AdamW` rule. Same arguments as `Adam`, with
    `weight_decay` defaulting to 0.004 (Keras).
    """

    def __init__(self, learning_rate=0.001, weight_decay: float = 0.004, beta_1: float = 0.9,
                 beta_2: float = 0.999, epsilon: float = 1e-7, amsgrad: bool = False, **kwargs):
        if weight_decay is None:
            raise ValueError("`weight_decay` must be a finite non-negative number for AdamW. Received: weight_decay=None")
        super().__init__(learning_rate, beta_1, beta_2, epsilon, amsgrad, weight_decay=weight_decay, **kwargs)


class Adamax(Optimizer):
    """Adamax, Adam under the infinity norm (Kingma & Ba, 2015, section 7.1).

        m = beta_1 m + (1 - beta_1) grad
        u = max(beta_2 u, |grad|)
        param -= lr / (1 - beta_1^t) * m / (u + epsilon)

    The bias correction is `1 - beta_1^t` (the blog used the constant `1 - beta_1`,
    making every step ten times too large). PyTorch adds its `eps` inside the max
    (`max(beta_2 u, |grad| + eps)`); the two agree exactly at `epsilon = eps = 0`.

    Args:
        learning_rate: Float or schedule. Defaults to 0.001.
        beta_1: In [0, 1). Defaults to 0.9.
        beta_2: In [0, 1). Defaults to 0.999.
        epsilon: Non-negative. Defaults to 1e-7.
        **kwargs: Common `Optimizer` arguments.
    """

    def __init__(self, learning_rate=0.001, beta_1: float = 0.9, beta_2: float = 0.999, epsilon: float = 1e-7,
                 **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.beta_1 = _check_unit_interval("beta_1", beta_1)
        self.beta_2 = _check_unit_interval("beta_2", beta_2)
        self.epsilon = _check_non_negative("epsilon", epsilon)

    def init_slots(self, param):
        return {"m": np.zeros_like(param), "u": np.zeros_like(param)}

    def update(self, param, grad, slots, lr):
        m, u = slots["m"], slots["u"]
        m += (1 - self.beta_1) * (grad - m)
        u *= self.beta_2
        np.maximum(u, np.abs(grad), out=u)
        param -= lr / (1 - self.beta_1**self.iterations) * m / (u + self.epsilon)

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}


class Nadam(Optimizer):
    """Nadam, Adam with Nesterov momentum (Dozat, 2016), Keras's formulation.

        mu_t     = beta_1 (1 - 0.5 * 0.96^(momentum_decay * t));   prod_t = mu_1 ... mu_t
        m = beta_1 m + (1 - beta_1) grad;   v = beta_2 v + (1 - beta_2) grad^2
        m_hat    = mu_{t+1} m / (1 - prod_t mu_{t+1}) + (1 - mu_t) grad / (1 - prod_t)
        param   -= lr m_hat / (sqrt(v / (1 - beta_2^t)) + epsilon)

    Keras 3 uses `0.96^t` (`momentum_decay=1.0`, the default here); Dozat's report,
    TensorFlow 2's old Nadam and PyTorch's `NAdam` use `0.96^(0.004 t)`: pass
    `momentum_decay=0.004` for those (PyTorch's `momentum_decay` has the same meaning).
    Epsilon is added after the bias correction of `v`, as in PyTorch, so the two agree
    exactly for equal `epsilon`/`eps`. The running product `prod_t` is optimizer state
    (`get_state()["u_product"]`); a state saved without it (older files) gets it back in
    O(1) time however many steps it records.

    Args:
        learning_rate: Float or schedule. Defaults to 0.001.
        beta_1: In [0, 1). Defaults to 0.9.
        beta_2: In [0, 1). Defaults to 0.999.
        epsilon: Non-negative. Defaults to 1e-7.
        momentum_decay: Positive exponent scale of the momentum schedule. Defaults to 1.0 (Keras).
        **kwargs: Common `Optimizer` arguments.
    """

    def __init__(self, learning_rate=0.001, beta_1: float = 0.9, beta_2: float = 0.999, epsilon: float = 1e-7,
                 momentum_decay: float = 1.0, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.beta_1 = _check_unit_interval("beta_1", beta_1)
        self.beta_2 = _check_unit_interval("beta_2", beta_2)
        self.epsilon = _check_non_negative("epsilon", epsilon)
        self.momentum_decay = _check_positive("momentum_decay", momentum_decay)
        self.u_product = 1.0

    _STEP_SCALARS = ("iterations", "u_product")
    _EXACT_PRODUCT_STEPS = 10_000

    def _mu(self, step):
        return self.beta_1 * (1.0 - 0.5 * 0.96 ** (self.momentum_decay * step))

    def _begin_step(self):
        self.u_product *= self._mu(self.iterations)

    def init_slots(self, param):
        return {"m": np.zeros_like(param), "v": np.zeros_like(param)}

    def update(self, param, grad, slots, lr):
        m, v, t = slots["m"], slots["v"], self.iterations
        mu, mu_next = self._mu(t), self._mu(t + 1)
        m += (1 - self.beta_1) * (grad - m)
        v += (1 - self.beta_2) * (grad * grad - v)
        m_hat = (mu_next / (1 - self.u_product * mu_next)) * m + ((1 - mu) / (1 - self.u_product)) * grad
        param -= lr * m_hat / (np.sqrt(v / (1 - self.beta_2**t)) + self.epsilon)

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon,
                "momentum_decay": self.momentum_decay}

    def get_state(self):
        return {**super().get_state(), "u_product": self.u_product}

    def set_state(self, state):
        u_product = state.get("u_product") if isinstance(state, dict) else None
        if u_product is not None and (np.ndim(u_product) != 0 or np.asarray(u_product).dtype.kind not in "iuf"):
            raise ValueError(f"`state['u_product']` must be a number. Received: {u_product!r}")
        super().set_state(state)
        self.u_product = float(self._momentum_product(self.iterations) if u_product is None else u_product)

    def _momentum_product(self, steps: int) -> float:
        """`mu_1 * ... * mu_steps`, for a state saved without it, in O(1) time for any `steps`.

        Up to `_EXACT_PRODUCT_STEPS` steps it is rebuilt in the order training formed it
        (bit-identical resume). Beyond, with `q = 0.96^momentum_decay`, it is the closed form

            beta_1^t * prod_s (1 - q^s / 2) = beta_1^t * exp(-sum_k (1/2)^k / k * q^k (1 - q^(k t)) / (1 - q^k))

        (log(1 - x) = -sum_k x^k / k, then the geometric series over s), whose terms
        shrink like 2^-k: 60 of them reach double precision.
        """
        if steps <= self._EXACT_PRODUCT_STEPS:
            product = 1.0
            for step in range(1, steps + 1):
                product *= self._mu(step)
            return product
        if self.beta_1 == 0:
            return 0.0
        log_q = self.momentum_decay * math.log(0.96)
        log_sum = 0.0
        for k in range(1, 61):
            # q^k (1 - q^(k t)) / (1 - q^k), with expm1 keeping precision when q is close to 1
            log_sum += 0.5**k / k * math.exp(k * log_q) * -math.expm1(k * steps * log_q) / -math.expm1(k * log_q)
        return math.exp(steps * math.log(self.beta_1) - log_sum)
