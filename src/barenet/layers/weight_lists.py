"""What every layer and model says about its weights, in Keras's terms: `trainable` (propagated to
the layers it holds), `weights`, `trainable_weights`, `non_trainable_weights`, `get_weights()`,
`set_weights()`. A mixin of `Layer`; the arrays stay the layer's own (`params`, `state`)."""

from __future__ import annotations

import numpy as np

from ..autodiff import Variable


class WeightLists:
    """Keras's weight lists over a layer's `params` (trainable) and `state` (non-trainable)."""

    @property
    def trainable(self) -> bool:
        """Whether the optimizer updates this layer's weights (Keras's `layer.trainable`).

        Setting it sets it on every layer this one holds (a model's layers, nested models'
        layers), as Keras 3 does. barenet reads the flag at every training step, so a change
        takes effect at the next step (Keras 3 asks for `compile()` again; that works too).
        """
        return self.__dict__.get("_trainable", True)

    @trainable.setter
    def trainable(self, value) -> None:
        value = bool(value)
        object.__setattr__(self, "_trainable", value)
        for key, variable in self.__dict__.get("_variables", {}).items():
            if key in self.params:  # weights created trainable follow the layer (Keras's rule)
                variable.trainable = value
        for child in self._tracked_layers():
            child.trainable = value

    def _tracked_layers(self) -> list:
        """The layers `trainable` propagates to (a model overrides it with its layers)."""
        return self.sublayers

    def _own_weights(self) -> list:
        """This layer's own weights (not its sublayers') as `Variable`s: trainable, then non-trainable."""
        variables = self.__dict__.get("_variables")
        if variables:
            return ([v for k, v in variables.items() if k in self.params]
                    + [v for k, v in variables.items() if k in self.state])
        return ([Variable(value, name=key, trainable=True) for key, value in self.params.items()]
                + [Variable(value, name=key, trainable=False) for key, value in self.state.items()])

    def _all_weights(self) -> list:
        """`(learns, Variable)` for every weight, depth first: `learns` is whether the optimizer
        updates it (a trainable weight of a layer that, with every layer holding it, is trainable)."""
        found, seen = [], set()
        learning = trainable_layer_ids(self)
        for layer in [self, *nested_layers(self)]:
            for weight in layer._own_weights():
                if id(weight.value) not in seen:
                    seen.add(id(weight.value))
                    found.append((id(layer) in learning and weight.name in layer.params, weight))
        return found

    @property
    def weights(self) -> list:
        """Every weight as a `Variable` (wrapping the live array): trainable ones first, then
        non-trainable (BatchNormalization's moving statistics), then sublayers', as in Keras."""
        return [weight for _, weight in self._all_weights()]

    @property
    def trainable_weights(self) -> list:
        """The weights the optimizer updates (none when `trainable` is False)."""
        return [w for learns, w in self._all_weights() if learns]

    @property
    def non_trainable_weights(self) -> list:
        """The weights it does not update: non-trainable state, and all weights of frozen layers."""
        return [w for learns, w in self._all_weights() if not learns]

    def get_weights(self) -> list:
        """Copies of the weights as NumPy arrays, in `weights` order."""
        return [np.array(weight.value, copy=True) for _, weight in self._all_weights()]

    def set_weights(self, weights) -> None:
        """Set the weights from a list of arrays shaped like `get_weights()` (checked before any change)."""
        targets = [weight for _, weight in self._all_weights()]
        weights = list(weights)
        if len(weights) != len(targets):
            raise ValueError(f"`weights` must hold {len(targets)} arrays for layer {self.name!r}. "
                             f"Received: {len(weights)}")
        for i, (target, value) in enumerate(zip(targets, weights)):
            if np.shape(value) != target.shape:
                raise ValueError(f"`weights[{i}]` ({target.name}) must have shape {target.shape}. "
                                 f"Received: {np.shape(value)}")
        for target, value in zip(targets, weights):
            target.value[...] = value


def trainable_layer_ids(root) -> set:
    """ids of `root` and the layers inside it that the optimizer updates: trainable, and held only
    by trainable layers (Keras 3: a frozen model hides all its weights, whatever its layers say)."""
    found = set()

    def visit(layer):
        if not layer.trainable or id(layer) in found:
            return
        found.add(id(layer))
        for child in layer._tracked_layers():
            visit(child)

    visit(root)
    return found


def nested_layers(layer) -> list:
    """Every layer `layer` holds, depth first, each once (a model's layers and theirs)."""
    found, seen = [], {id(layer)}

    def visit(owner):
        for child in owner._tracked_layers():
            if id(child) not in seen:
                seen.add(id(child))
                found.append(child)
                visit(child)

    visit(layer)
    return found
