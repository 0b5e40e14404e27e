package org.retinagrade.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Activation;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.pytorch.jni.IValueUtils;
import ai.djl.pytorch.jni.JniUtils;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.regex.Pattern;

/**
 * libtorch operations that DJL does not expose, run through tiny TorchScript modules shipped
 * as resources (written by {@code src/main/torchscript/export_ops.py}):
 * <ul>
 * <li>SiLU as libtorch's fused kernel. Built from DJL's sigmoid and multiplication it takes
 * two kernels forward and two backward, and keeps an extra tensor for the backward pass.</li>
 * <li>Channels-last (NHWC) memory order. libtorch's CPU convolutions (oneDNN) run faster on
 * it, and convolutions, BatchNorm and element-wise operations give their output the memory
 * order of their input, so converting the network's input once moves the whole network to
 * it.</li>
 * </ul>
 * The modules are called in libtorch's training mode even for inference, because DJL runs
 * the other mode under an inference guard whose output tensors refuse later in-place
 * operations. A tensor that has no parameters attached builds no autograd graph either way.
 */
final class TorchOps {

    /**
     * Array names that DJL's module call passes through as plain tensors. It reads other names
     * as structure (a "." names a dictionary entry, "[]" a list, "()" a tuple), so an array
     * named that way goes through DJL's own operations instead.
     */
    private static final Pattern PLAIN_NAME = Pattern.compile("\\w*");

    private TorchOps() {
    }

    /** Returns SiLU(x) = x * sigmoid(x). In inference ({@code training} false) it overwrites x. */
    static NDArray silu(NDArray x, boolean training) {
        if (!scriptable(x)) {
            NDArray gate = Activation.sigmoid(x);
            return training ? x.mul(gate) : gate.muli(x);
        }
        return call(training ? Modules.SILU : Modules.SILU_INPLACE, x);
    }

    /** Returns a 4-D x in channels-last memory order; the shape and values do not change. */
    static NDArray channelsLast(NDArray x) {
        if (x.getShape().dimension() != 4 || !scriptable(x)) {
            return x;
        }
        return call(Modules.CHANNELS_LAST, x);
    }

    private static boolean scriptable(NDArray x) {
        return x instanceof PtNDArray && (x.getName() == null || PLAIN_NAME.matcher(x.getName()).matches());
    }

    private static NDArray call(PtSymbolBlock module, NDArray x) {
        return IValueUtils.forward(module, new NDList(x), true).singletonOrThrow();
    }

    /** Modules loaded on first use and kept for the life of the process. They have no parameters. */
    private static final class Modules {
        private static final NDManager MANAGER = NDManager.newBaseManager("PyTorch");
        static final PtSymbolBlock SILU = load("silu.pt");
        static final PtSymbolBlock SILU_INPLACE = load("silu_inplace.pt");
        static final PtSymbolBlock CHANNELS_LAST = load("channels_last.pt");

        private static PtSymbolBlock load(String name) {
            try (InputStream in = TorchOps.class.getResourceAsStream("torchscript/" + name)) {
                if (in == null) {
                    throw new IllegalStateException("the resource torchscript/" + name
                            + " is missing from the application; rebuild it with ./mvnw package");
                }
                return JniUtils.loadModule((PtNDManager) MANAGER, in, true, false);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read the resource torchscript/" + name, e);
            }
        }
    }
}
