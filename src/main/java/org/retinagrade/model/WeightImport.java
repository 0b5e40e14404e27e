package org.retinagrade.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.jboss.logging.Logger;

/**
 * Loads a torchvision EfficientNetV2 state dict saved as safetensors or npz (read by DJL's
 * {@link NDList#decode}) into an {@link EfficientNetV2} through the explicit name map of
 * {@link EfficientNetV2#torchNames()}. Every feature parameter must be present with the
 * same shape; the classifier is kept as initialised when its shape differs (another
 * class count). Entries without a counterpart ({@code num_batches_tracked}) are ignored.
 */
public final class WeightImport {

    private static final Logger LOG = Logger.getLogger(WeightImport.class);

    private WeightImport() {
    }

    /** Import outcome: tensors copied, whether the classifier was replaced, and entries ignored. */
    public record Result(int loaded, boolean classifierReplaced, List<String> ignored) {
    }

    /**
     * Checks that {@code file} loads into the given variant, so that a bad file is reported
     * before a run is created. Loads it into a throw-away network of that variant.
     */
    public static void check(String variant, int classes, Path file) throws IOException {
        try (NDManager manager = NDManager.newBaseManager(ai.djl.Device.cpu())) {
            EfficientNetV2 network = new EfficientNetV2(EfficientNetV2Config.named(variant), classes);
            network.initialize(manager, ai.djl.ndarray.types.DataType.FLOAT32, new ai.djl.ndarray.types.Shape(1, 3, 64, 64));
            load(network, file, manager);
        }
    }

    public static Result load(EfficientNetV2 model, Path file, NDManager manager) throws IOException {
        if (Files.isDirectory(file)) {
            throw new IOException("pretrained weights " + file + " is a directory; expected a .npz or .safetensors file");
        }
        if (!Files.isRegularFile(file)) {
            throw new IOException("pretrained weights not found: " + file);
        }
        NDList arrays;
        try (InputStream in = Files.newInputStream(file)) {
            arrays = NDList.decode(manager, in);
        } catch (RuntimeException e) {
            throw new IOException("cannot read pretrained weights " + file + ": " + e.getMessage()
                    + " (expected a state dict saved as safetensors or npz)", e);
        }
        Map<String, NDArray> byName = new HashMap<>();
        for (NDArray array : arrays) {
            byName.put(array.getName(), array);
        }

        try {
            return copy(model, file, byName);
        } finally {
            arrays.close();
        }
    }

    private static Result copy(EfficientNetV2 model, Path file, Map<String, NDArray> byName) throws IOException {
        int loaded = 0;
        boolean classifierReplaced = false;
        for (Map.Entry<String, Parameter> entry : model.torchNames().entrySet()) {
            String name = entry.getKey();
            NDArray target = entry.getValue().getArray();
            NDArray source = byName.remove(name);
            if (source == null) {
                throw new IOException("invalid pretrained weights " + file + ": entry '" + name + "' is missing; "
                        + (model.config().name().equals("small")
                                ? "torchvision has no counterpart of the small variant, so use weights of s, m or l with that variant"
                                : "is it a torchvision efficientnet_v2_" + model.config().name() + " state dict?"));
            }
            if (!source.getShape().equals(target.getShape())) {
                if (name.startsWith("classifier.")) {
                    classifierReplaced = true;
                    continue;
                }
                throw new IOException("invalid pretrained weights " + file + ": entry '" + name + "' has shape "
                        + source.getShape() + ", the model expects " + target.getShape());
            }
            try (NDArray converted = source.toType(target.getDataType(), true)) {
                target.set(converted.toByteBuffer());
            }
            loaded++;
        }
        List<String> ignored = new ArrayList<>(byName.keySet());
        ignored.removeIf(n -> n.endsWith("num_batches_tracked"));
        if (classifierReplaced) {
            LOG.infof("pretrained classifier has another class count; a new %d-class classifier is used", model.classes());
        }
        return new Result(loaded, classifierReplaced, ignored);
    }
}
