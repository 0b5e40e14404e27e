package org.retinagrade.training;

/** libtorch's thread counts, which DJL reads once, when the PyTorch engine loads. */
public final class EngineThreads {

    private EngineThreads() {
    }

    /**
     * Sets the intra-op threads to {@code threads} and the inter-op threads to 1. Takes effect
     * only before the engine's first use in the process.
     */
    public static void set(int threads) {
        System.setProperty("ai.djl.pytorch.num_threads", Integer.toString(threads));
        System.setProperty("ai.djl.pytorch.num_interop_threads", "1");
    }
}
