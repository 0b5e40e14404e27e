package org.retinagrade.model;

import ai.djl.Device;
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
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * libtorch operations that DJL does not expose, run through tiny TorchScript modules shipped
 * as resources (written by {@code src/main/torchscript/export_ops.py}):
 * <ul>
 * <li>SiLU as libtorch's fused kernel. Built from DJL's sigmoid and multiplication it takes
 * two kernels forward and two backward, and keeps an extra tensor for the backward pass.</li>
 * <li>Channels-last (NHWC) memory order for activations on the CPU. oneDNN's convolutions
 * run faster on it. Convolutions, BatchNorm and element-wise operations give their output
 * the memory order of their input, so converting the network's input once puts the
 * activations of the whole network in that order. Weights stay in NCHW order.</li>
 * </ul>
 * The modules are called with DJL's {@code isTrain} flag set even for inference. With the
 * flag clear, DJL 0.36 runs the module under {@code c10::InferenceMode}, and the tensors it
 * returns reject the in-place operations that follow (residual addition, SE scaling).
 */
final class TorchOps {

    /**
     * Array names that DJL's module call passes through as plain tensors. It reads other names
     * as structure (a "." names a dictionary entry, "[]" a list, "()" a tuple), so an array
     * named that way goes through DJL's own operations instead.
     */
    private static final Pattern PLAIN_NAME = Pattern.compile("\\w*");
    private static final String RESOURCES = "org/retinagrade/model/torchscript/";
    private static final Map<String, PtSymbolBlock> MODULES = new HashMap<>();
    private static NDManager manager;

    private TorchOps() {
    }

    /**
     * Returns SiLU(x) = x * sigmoid(x). In inference ({@code training} false) the result may
     * overwrite x, so the caller must not use x afterwards.
     */
    static NDArray silu(NDArray x, boolean training) {
        if (!scriptable(x)) {
            NDArray gate = Activation.sigmoid(x);
            return training ? x.mul(gate) : gate.muli(x);
        }
        return call(training ? "silu.pt" : "silu_inplace.pt", x);
    }

    /**
     * Returns a 4-D CPU array in channels-last memory order, with the same shape and values.
     * Other arrays are returned as they are.
     */
    static NDArray channelsLast(NDArray x) {
        // NOTE: measured on the CPU only. On a GPU, float32 convolutions may not gain from
        // channels-last order, so arrays there keep NCHW order until someone measures it.
        if (x.getShape().dimension() != 4 || !Device.Type.CPU.equals(x.getDevice().getDeviceType()) || !scriptable(x)) {
            return x;
        }
        return call("channels_last.pt", x);
    }

    private static boolean scriptable(NDArray x) {
        return x instanceof PtNDArray && (x.getName() == null || PLAIN_NAME.matcher(x.getName()).matches());
    }

    private static NDArray call(String module, NDArray x) {
        return IValueUtils.forward(module(module), new NDList(x), true).singletonOrThrow();
    }

    /** Returns the named module, loaded on first use and kept for the life of the process. */
    private static synchronized PtSymbolBlock module(String name) {
        PtSymbolBlock module = MODULES.get(name);
        if (module != null) {
            return module;
        }
        if (manager == null) {
            // The modules have no parameters, so one loaded on the CPU runs on any device.
            manager = NDManager.newBaseManager(Device.cpu(), "PyTorch");
        }
        String path = RESOURCES + name;
        try (InputStream in = TorchOps.class.getClassLoader().getResourceAsStream(path)) {
            if (in == null) {
                throw new IllegalStateException("resource " + path + " is missing from the application. Write it with "
                        + "src/main/torchscript/export_ops.py into src/main/resources, then rebuild with ./mvnw package");
            }
            module = JniUtils.loadModule((PtNDManager) manager, in, true, false);
        } catch (IOException e) {
            throw new IllegalStateException("failed to read resource " + path + ": " + e.getMessage(), e);
        }
        MODULES.put(name, module);
        return module;
    }
}
