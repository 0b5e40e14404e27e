package org.retinagrade.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Activation;
import ai.djl.nn.Parameter;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.pooling.Pool;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import java.util.Map;

/**
 * Squeeze-and-excitation (Hu et al., 2018) as torchvision's {@code SqueezeExcitation}:
 * global average pooling, a 1x1 convolution to {@code squeezeChannels} with SiLU, a 1x1
 * convolution back with a sigmoid, and the input scaled by the result per channel.
 */
public class SqueezeExcitation extends AbstractBlock {

    private final Conv2d reduce;
    private final Conv2d expand;

    public SqueezeExcitation(int channels, int squeezeChannels) {
        reduce = addChildBlock("fc1", Conv2d.builder().setKernelShape(new Shape(1, 1)).setFilters(squeezeChannels).build());
        expand = addChildBlock("fc2", Conv2d.builder().setKernelShape(new Shape(1, 1)).setFilters(channels).build());
    }

    @Override
    protected NDList forwardInternal(ParameterStore store, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray x = inputs.singletonOrThrow();
        long batch = x.getShape().get(0);
        long channels = x.getShape().get(1);
        NDArray pooled = Pool.globalAvgPool2d(x).reshape(batch, channels, 1, 1);
        NDArray scale = reduce.forward(store, new NDList(pooled), training, params).singletonOrThrow();
        scale = TorchOps.silu(scale, training);
        scale = expand.forward(store, new NDList(scale), training, params).singletonOrThrow();
        // In inference the block's input (the depthwise convolution's output) is scaled in place.
        return new NDList(training ? x.mul(Activation.sigmoid(scale)) : x.muli(Activation.sigmoid(scale)));
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return inputShapes;
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        Shape pooled = new Shape(inputShapes[0].get(0), inputShapes[0].get(1), 1, 1);
        reduce.initialize(manager, dataType, pooled);
        expand.initialize(manager, dataType, reduce.getOutputShapes(new Shape[] {pooled}));
    }

    void mapTorchNames(String prefix, Map<String, Parameter> names) {
        names.put(prefix + ".fc1.weight", reduce.getParameters().get("weight"));
        names.put(prefix + ".fc1.bias", reduce.getParameters().get("bias"));
        names.put(prefix + ".fc2.weight", expand.getParameters().get("weight"));
        names.put(prefix + ".fc2.bias", expand.getParameters().get("bias"));
    }
}
