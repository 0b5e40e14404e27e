package org.retinagrade.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Parameter;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.norm.BatchNorm;
import ai.djl.ndarray.NDManager;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import java.util.Map;

/**
 * Convolution without bias, BatchNorm (epsilon 1e-3, PyTorch momentum 0.1) and an optional
 * SiLU, as torchvision's {@code Conv2dNormActivation}; padding keeps the size for odd
 * kernels. While its BatchNorm parameters are frozen, BatchNorm runs in inference mode:
 * running statistics are used and not updated.
 */
public class ConvBnAct extends AbstractBlock {

    private final Conv2d conv;
    private final BatchNorm norm;
    private final boolean activation;
    private final Shape stride;
    private final Shape padding;
    private final int groups;
    /** Convolution weight and bias with the inference-mode BatchNorm folded in, or null. */
    private NDArray foldedWeight;
    private NDArray foldedBias;

    public ConvBnAct(int outChannels, int kernel, int stride, int groups, boolean activation) {
        this.conv = addChildBlock("conv", Conv2d.builder()
                .setKernelShape(new Shape(kernel, kernel))
                .optStride(new Shape(stride, stride))
                .optPadding(new Shape((kernel - 1) / 2, (kernel - 1) / 2))
                .setFilters(outChannels)
                .optGroups(groups)
                .optBias(false)
                .build());
        // DJL's momentum is the share of the running value kept: 0.9 is PyTorch's momentum 0.1.
        this.norm = addChildBlock("bn", BatchNorm.builder().optEpsilon(1e-3f).optMomentum(0.9f).build());
        this.activation = activation;
        this.stride = new Shape(stride, stride);
        this.padding = new Shape((kernel - 1) / 2, (kernel - 1) / 2);
        this.groups = groups;
    }

    @Override
    protected NDList forwardInternal(ParameterStore store, NDList inputs, boolean training, PairList<String, Object> params) {
        if (!training && foldedWeight != null) {
            NDList x = Conv2d.conv2d(inputs.singletonOrThrow(), foldedWeight, foldedBias, stride, padding, new Shape(1, 1), groups);
            return activation ? new NDList(TorchOps.silu(x.singletonOrThrow(), false)) : x;
        }
        NDList x = conv.forward(store, inputs, training, params);
        boolean normTraining = training && norm.getParameters().get("gamma").requiresGradient();
        x = norm.forward(store, x, normTraining, params);
        return activation ? new NDList(TorchOps.silu(x.singletonOrThrow(), training)) : x;
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return conv.getOutputShapes(inputShapes);
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        conv.initialize(manager, dataType, inputShapes);
        norm.initialize(manager, dataType, conv.getOutputShapes(inputShapes));
    }

    /**
     * Folds the inference-mode BatchNorm into the convolution: with s = gamma / sqrt(var + eps),
     * the weight becomes w * s per output channel and the bias beta - mean * s. Inference then
     * runs one convolution with bias in place of a convolution and a BatchNorm.
     */
    void fold() {
        unfold();
        NDArray weight = conv.getParameters().get("weight").getArray();
        NDArray gamma = norm.getParameters().get("gamma").getArray();
        NDArray beta = norm.getParameters().get("beta").getArray();
        NDArray mean = norm.getParameters().get("runningMean").getArray();
        NDArray variance = norm.getParameters().get("runningVar").getArray();
        try (NDScope scope = new NDScope()) {
            NDArray scale = gamma.div(variance.add(1e-3f).sqrt());
            NDArray folded = weight.mul(scale.reshape(-1, 1, 1, 1));
            NDArray bias = beta.sub(mean.mul(scale));
            // The folded arrays stay until unfold(). The intermediates close with the scope.
            NDScope.unregister(folded, bias);
            foldedWeight = folded;
            foldedBias = bias;
        }
    }

    /** Drops the folded weights, so that inference uses the convolution and BatchNorm again. */
    void unfold() {
        if (foldedWeight != null) {
            foldedWeight.close();
            foldedBias.close();
            foldedWeight = null;
            foldedBias = null;
        }
    }

    /** Adds this block's parameters to the map under torchvision's names, below {@code prefix}. */
    void mapTorchNames(String prefix, Map<String, Parameter> names) {
        names.put(prefix + ".0.weight", conv.getParameters().get("weight"));
        names.put(prefix + ".1.weight", norm.getParameters().get("gamma"));
        names.put(prefix + ".1.bias", norm.getParameters().get("beta"));
        names.put(prefix + ".1.running_mean", norm.getParameters().get("runningMean"));
        names.put(prefix + ".1.running_var", norm.getParameters().get("runningVar"));
    }
}
