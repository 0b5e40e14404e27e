package org.retinagrade.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * An MBConv or Fused-MBConv block as torchvision defines them, with a residual connection
 * when stride is 1 and the channel count is unchanged, and stochastic depth ("row" mode:
 * each sample's residual branch is dropped with probability {@code dropPath} during
 * training and the survivors scaled by 1 / (1 - dropPath)).
 */
public class InvertedResidual extends AbstractBlock {

    private final List<Block> layers = new ArrayList<>();
    private final List<String> torchIndices = new ArrayList<>();
    private final boolean residual;
    private final float dropPath;

    public InvertedResidual(EfficientNetV2Config.Stage stage, int inputChannels, int stride, float dropPath) {
        int expanded = inputChannels * stage.expandRatio();
        this.residual = stride == 1 && inputChannels == stage.outputChannels();
        this.dropPath = dropPath;
        if (stage.fused()) {
            if (expanded != inputChannels) {
                add(new ConvBnAct(expanded, stage.kernel(), stride, 1, true));
                add(new ConvBnAct(stage.outputChannels(), 1, 1, 1, false));
            } else {
                add(new ConvBnAct(stage.outputChannels(), stage.kernel(), stride, 1, true));
            }
        } else {
            if (expanded != inputChannels) {
                add(new ConvBnAct(expanded, 1, 1, 1, true));
            }
            add(new ConvBnAct(expanded, stage.kernel(), stride, expanded, true));
            add(new SqueezeExcitation(expanded, Math.max(1, inputChannels / 4)));
            add(new ConvBnAct(stage.outputChannels(), 1, 1, 1, false));
        }
    }

    private void add(Block block) {
        torchIndices.add(Integer.toString(layers.size()));
        layers.add(addChildBlock("layer" + layers.size(), block));
    }

    @Override
    protected NDList forwardInternal(ParameterStore store, NDList inputs, boolean training, PairList<String, Object> params) {
        NDList x = inputs;
        for (Block layer : layers) {
            x = layer.forward(store, x, training, params);
        }
        if (!residual) {
            return x;
        }
        NDArray branch = x.singletonOrThrow();
        if (training && dropPath > 0) {
            float survival = 1 - dropPath;
            Shape maskShape = new Shape(branch.getShape().get(0), 1, 1, 1);
            NDArray keep = branch.getManager().randomUniform(0f, 1f, maskShape).lt(survival).toType(DataType.FLOAT32, false);
            branch = branch.mul(keep.div(survival));
        }
        // No backward step reads the branch: SiLU, BatchNorm and the drop-path
        // multiplication keep their inputs, not their outputs. So the input is added in place.
        return new NDList(branch.addi(inputs.singletonOrThrow()));
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        Shape[] shapes = inputShapes;
        for (Block layer : layers) {
            shapes = layer.getOutputShapes(shapes);
        }
        return shapes;
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        Shape[] shapes = inputShapes;
        for (Block layer : layers) {
            layer.initialize(manager, dataType, shapes);
            shapes = layer.getOutputShapes(shapes);
        }
    }

    void mapTorchNames(String prefix, Map<String, Parameter> names) {
        for (int i = 0; i < layers.size(); i++) {
            Block layer = layers.get(i);
            String name = prefix + ".block." + torchIndices.get(i);
            if (layer instanceof ConvBnAct convBnAct) {
                convBnAct.mapTorchNames(name, names);
            } else {
                ((SqueezeExcitation) layer).mapTorchNames(name, names);
            }
        }
    }
}
