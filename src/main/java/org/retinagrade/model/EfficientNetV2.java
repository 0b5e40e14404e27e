package org.retinagrade.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Linear;
import ai.djl.nn.pooling.Pool;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.UniformInitializer;
import ai.djl.training.initializer.XavierInitializer;
import ai.djl.util.PairList;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * EfficientNetV2 as a DJL block with torchvision's structure: {@code features} (stem
 * convolution, one sequence of blocks per stage, final 1x1 convolution to
 * {@code lastChannel}), global average pooling, dropout and a linear classifier. Input is
 * NCHW float, output the logits (N, classes). Weights are initialised as torchvision does:
 * convolutions Kaiming normal (fan out), the classifier uniform in +-1/sqrt(classes),
 * biases 0, BatchNorm scale 1 and shift 0.
 */
public class EfficientNetV2 extends AbstractBlock {

    private final EfficientNetV2Config config;
    private final int classes;
    private final List<Block> features = new ArrayList<>();
    private final Linear classifier;
    private float dropoutRate;

    public EfficientNetV2(EfficientNetV2Config config, int classes) {
        if (classes < 2) {
            throw new IllegalArgumentException("invalid class count " + classes + ": expected 2 or more");
        }
        this.config = config;
        this.classes = classes;
        List<EfficientNetV2Config.Stage> stages = config.stages();
        features.add(addChildBlock("stem", new ConvBnAct(stages.get(0).inputChannels(), 3, 2, 1, true)));
        int total = config.totalBlocks();
        int blockIndex = 0;
        for (int s = 0; s < stages.size(); s++) {
            EfficientNetV2Config.Stage stage = stages.get(s);
            List<InvertedResidual> blocks = new ArrayList<>();
            for (int i = 0; i < stage.numLayers(); i++) {
                int input = i == 0 ? stage.inputChannels() : stage.outputChannels();
                int stride = i == 0 ? stage.stride() : 1;
                float dropPath = config.stochasticDepth() * blockIndex / total;
                blocks.add(new InvertedResidual(stage, input, stride, dropPath));
                blockIndex++;
            }
            features.add(addChildBlock("stage" + (s + 1), new Stage(blocks)));
        }
        int lastInput = stages.get(stages.size() - 1).outputChannels();
        features.add(addChildBlock("head", new ConvBnAct(config.lastChannel(), 1, 1, 1, true)));
        dropoutRate = config.dropout();
        classifier = addChildBlock("classifier", Linear.builder().setUnits(classes).build());

        for (Block feature : features) {
            feature.setInitializer(new XavierInitializer(XavierInitializer.RandomType.GAUSSIAN,
                    XavierInitializer.FactorType.OUT, 2), Parameter.Type.WEIGHT);
        }
        classifier.setInitializer(new UniformInitializer((float) (1 / Math.sqrt(classes))), Parameter.Type.WEIGHT);
        if (lastInput <= 0) {
            throw new IllegalStateException("stage table ends without channels");
        }
    }

    public EfficientNetV2Config config() {
        return config;
    }

    public int classes() {
        return classes;
    }

    /** Returns the feature blocks in torchvision's {@code features} order: stem, stages, head convolution. */
    public List<Block> features() {
        return Collections.unmodifiableList(features);
    }

    public Block classifier() {
        return classifier;
    }

    /** Sets the dropout rate before the classifier (progressive learning raises it by stage). */
    public void setDropoutRate(float rate) {
        if (!(rate >= 0 && rate < 1)) {
            throw new IllegalArgumentException("invalid dropout rate " + rate + ": expected 0 to below 1");
        }
        this.dropoutRate = rate;
    }

    public float dropoutRate() {
        return dropoutRate;
    }

    @Override
    protected NDList forwardInternal(ParameterStore store, NDList inputs, boolean training, PairList<String, Object> params) {
        NDList x = new NDList(TorchOps.channelsLast(inputs.singletonOrThrow()));
        for (Block feature : features) {
            x = feature.forward(store, x, training, params);
        }
        NDArray pooled = Pool.globalAvgPool2d(x.singletonOrThrow());
        pooled = pooled.reshape(pooled.getShape().get(0), -1);
        if (training && dropoutRate > 0) {
            // Inverted dropout, as torch.nn.Dropout: kept values are scaled by 1 / (1 - rate).
            NDArray keep = pooled.getManager().randomUniform(0f, 1f, pooled.getShape()).gte(dropoutRate)
                    .toType(DataType.FLOAT32, false);
            pooled = pooled.mul(keep).div(1 - dropoutRate);
        }
        return classifier.forward(store, new NDList(pooled), training, params);
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {new Shape(inputShapes[0].get(0), classes)};
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        Shape[] shapes = inputShapes;
        for (Block feature : features) {
            feature.initialize(manager, dataType, shapes);
            shapes = feature.getOutputShapes(shapes);
        }
        Shape pooled = new Shape(shapes[0].get(0), shapes[0].get(1));
        classifier.initialize(manager, dataType, pooled);
    }

    /**
     * Folds every BatchNorm into its convolution for inference until the returned handle is
     * closed. The folded weights are a copy taken now: weights changed inside the scope (by
     * training, pruning or loading) are not seen, so open it only around inference.
     */
    public Folded foldBatchNorm() {
        List<ConvBnAct> blocks = new ArrayList<>();
        collect(this, blocks);
        blocks.forEach(ConvBnAct::fold);
        return () -> blocks.forEach(ConvBnAct::unfold);
    }

    /** A scope in which inference uses folded BatchNorm weights. */
    public interface Folded extends AutoCloseable {
        @Override
        void close();
    }

    private static void collect(Block block, List<ConvBnAct> found) {
        if (block instanceof ConvBnAct convolution) {
            found.add(convolution);
            return;
        }
        for (Block child : block.getChildren().values()) {
            collect(child, found);
        }
    }

    /**
     * Returns every parameter under the name it has in a torchvision EfficientNetV2 state
     * dict, in state-dict order (BatchNorm's {@code num_batches_tracked} has no counterpart).
     */
    public Map<String, Parameter> torchNames() {
        Map<String, Parameter> names = new LinkedHashMap<>();
        for (int f = 0; f < features.size(); f++) {
            Block feature = features.get(f);
            String prefix = "features." + f;
            if (feature instanceof ConvBnAct convBnAct) {
                convBnAct.mapTorchNames(prefix, names);
            } else {
                List<InvertedResidual> blocks = ((Stage) feature).blocks;
                for (int b = 0; b < blocks.size(); b++) {
                    blocks.get(b).mapTorchNames(prefix + "." + b, names);
                }
            }
        }
        names.put("classifier.1.weight", classifier.getParameters().get("weight"));
        names.put("classifier.1.bias", classifier.getParameters().get("bias"));
        return names;
    }

    /** Counts the trainable parameters (BatchNorm running statistics excluded), as torchvision's numel sum does. */
    public long parameterCount() {
        long count = 0;
        for (Parameter parameter : torchNames().values()) {
            if (parameter.getType() != Parameter.Type.RUNNING_MEAN && parameter.getType() != Parameter.Type.RUNNING_VAR) {
                count += parameter.getArray().getShape().size();
            }
        }
        return count;
    }

    /** Counts the trainable parameters of a variant with the given class count, without running it. */
    public static long countParameters(EfficientNetV2Config config, int classes) {
        try (ai.djl.ndarray.NDManager manager = ai.djl.ndarray.NDManager.newBaseManager()) {
            EfficientNetV2 network = new EfficientNetV2(config, classes);
            network.initialize(manager, DataType.FLOAT32, new Shape(1, 3, 64, 64));
            return network.parameterCount();
        }
    }

    /** A stage: its blocks applied in order. */
    static final class Stage extends AbstractBlock {

        final List<InvertedResidual> blocks;

        Stage(List<InvertedResidual> blocks) {
            this.blocks = blocks;
            for (int i = 0; i < blocks.size(); i++) {
                addChildBlock("block" + i, blocks.get(i));
            }
        }

        @Override
        protected NDList forwardInternal(ParameterStore store, NDList inputs, boolean training, PairList<String, Object> params) {
            NDList x = inputs;
            for (InvertedResidual block : blocks) {
                x = block.forward(store, x, training, params);
            }
            return x;
        }

        @Override
        public Shape[] getOutputShapes(Shape[] inputShapes) {
            Shape[] shapes = inputShapes;
            for (InvertedResidual block : blocks) {
                shapes = block.getOutputShapes(shapes);
            }
            return shapes;
        }

        @Override
        protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
            Shape[] shapes = inputShapes;
            for (InvertedResidual block : blocks) {
                block.initialize(manager, dataType, shapes);
                shapes = block.getOutputShapes(shapes);
            }
        }
    }
}
