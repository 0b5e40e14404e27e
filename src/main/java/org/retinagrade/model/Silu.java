package org.retinagrade.model;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Activation;

/**
 * SiLU, x * sigmoid(x). DJL's {@code Activation.swish(x, 1)} computes x * sigmoid(1 * x)
 * with an extra multiplication; this saves that pass, and in inference it also multiplies
 * in place, since no gradient needs the sigmoid output.
 */
final class Silu {

    private Silu() {
    }

    static NDArray apply(NDArray x, boolean training) {
        NDArray gate = Activation.sigmoid(x);
        return training ? x.mul(gate) : gate.muli(x);
    }
}
