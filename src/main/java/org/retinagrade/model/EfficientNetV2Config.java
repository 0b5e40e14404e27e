package org.retinagrade.model;

import java.util.List;
import java.util.Locale;

/**
 * Architecture of an EfficientNetV2 variant: stage table, head width, dropout and
 * stochastic depth. The S, M and L tables are Table 4 of Tan and Le, "EfficientNetV2:
 * Smaller Models and Faster Training" (ICML 2021), as torchvision 0.14 defines them in
 * {@code models/efficientnet.py}; with 1000 classes their parameter counts equal
 * torchvision's (S 21,458,488, M 54,139,356, L 118,515,272).
 *
 * @param name variant name as protocols use it
 * @param stages stage table, in order
 * @param lastChannel width of the final 1x1 convolution before pooling
 * @param dropout dropout rate before the classifier
 * @param stochasticDepth drop-path rate, scaled linearly from 0 at the first block to this value (exclusive) at the last
 */
public record EfficientNetV2Config(String name, List<Stage> stages, int lastChannel, float dropout, float stochasticDepth) {

    /**
     * One stage: {@code numLayers} blocks of one kind. Only the first block of a stage
     * changes the channel count and applies the stride.
     *
     * @param fused Fused-MBConv (a full k x k convolution expands) rather than MBConv (1x1 expansion, depthwise k x k, squeeze-and-excitation)
     * @param expandRatio expansion of the input channels inside the block
     */
    public record Stage(boolean fused, int expandRatio, int kernel, int stride, int inputChannels, int outputChannels,
            int numLayers) {
    }

    private static Stage fused(int expandRatio, int kernel, int stride, int in, int out, int layers) {
        return new Stage(true, expandRatio, kernel, stride, in, out, layers);
    }

    private static Stage mbconv(int expandRatio, int kernel, int stride, int in, int out, int layers) {
        return new Stage(false, expandRatio, kernel, stride, in, out, layers);
    }

    public static EfficientNetV2Config s() {
        return new EfficientNetV2Config("s", List.of(
                fused(1, 3, 1, 24, 24, 2),
                fused(4, 3, 2, 24, 48, 4),
                fused(4, 3, 2, 48, 64, 4),
                mbconv(4, 3, 2, 64, 128, 6),
                mbconv(6, 3, 1, 128, 160, 9),
                mbconv(6, 3, 2, 160, 256, 15)), 1280, 0.2f, 0.2f);
    }

    public static EfficientNetV2Config m() {
        return new EfficientNetV2Config("m", List.of(
                fused(1, 3, 1, 24, 24, 3),
                fused(4, 3, 2, 24, 48, 5),
                fused(4, 3, 2, 48, 80, 5),
                mbconv(4, 3, 2, 80, 160, 7),
                mbconv(6, 3, 1, 160, 176, 14),
                mbconv(6, 3, 2, 176, 304, 18),
                mbconv(6, 3, 1, 304, 512, 5)), 1280, 0.3f, 0.2f);
    }

    public static EfficientNetV2Config l() {
        return new EfficientNetV2Config("l", List.of(
                fused(1, 3, 1, 32, 32, 4),
                fused(4, 3, 2, 32, 64, 7),
                fused(4, 3, 2, 64, 96, 7),
                mbconv(4, 3, 2, 96, 192, 10),
                mbconv(6, 3, 1, 192, 224, 19),
                mbconv(6, 3, 2, 224, 384, 25),
                mbconv(6, 3, 1, 384, 640, 7)), 1280, 0.4f, 0.2f);
    }

    /**
     * A small variant for tests and quick runs: the same block kinds in fewer, narrower
     * stages (about 0.3 M parameters with 5 classes). Not from the paper.
     */
    public static EfficientNetV2Config small() {
        return new EfficientNetV2Config("small", List.of(
                fused(1, 3, 1, 16, 16, 1),
                fused(4, 3, 2, 16, 24, 2),
                mbconv(4, 3, 2, 24, 40, 2),
                mbconv(6, 3, 2, 40, 64, 2)), 320, 0.2f, 0.1f);
    }

    /** Returns the variant called {@code name}: s, m, l or small. */
    public static EfficientNetV2Config named(String name) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "s", "efficientnet_v2_s" -> s();
            case "m", "efficientnet_v2_m" -> m();
            case "l", "efficientnet_v2_l" -> l();
            case "small" -> small();
            default -> throw new IllegalArgumentException("invalid model variant '" + name + "': expected s, m, l or small");
        };
    }

    public int totalBlocks() {
        return stages.stream().mapToInt(Stage::numLayers).sum();
    }
}
