package org.retinagrade.imaging;

import org.opencv.core.CvType;
import org.opencv.core.Mat;

/** Conversions between OpenCV images and the CHW float arrays that models take. Stateless. */
public final class ImageTensor {

    /** ImageNet channel means (RGB) used by torchvision's pretrained weights. */
    public static final float[] IMAGENET_MEAN = {0.485f, 0.456f, 0.406f};
    /** ImageNet channel standard deviations (RGB). */
    public static final float[] IMAGENET_STD = {0.229f, 0.224f, 0.225f};

    private ImageTensor() {
    }

    /** Converts an 8-bit RGB Mat to a new 32-bit float RGB Mat in [0, 1]. */
    public static Mat toFloat(Mat rgb8) {
        Mat result = new Mat();
        rgb8.convertTo(result, CvType.CV_32FC3, 1.0 / 255.0);
        return result;
    }

    /**
     * Returns (value - mean) / std per channel as a CHW array, from a float RGB Mat in [0, 1]
     * with interleaved (HWC) channels.
     */
    public static float[] normalizedChw(Mat rgbFloat) {
        int height = rgbFloat.rows();
        int width = rgbFloat.cols();
        float[] hwc = new float[height * width * 3];
        rgbFloat.get(0, 0, hwc);
        float[] chw = new float[hwc.length];
        int plane = height * width;
        for (int i = 0; i < plane; i++) {
            for (int c = 0; c < 3; c++) {
                chw[c * plane + i] = (hwc[i * 3 + c] - IMAGENET_MEAN[c]) / IMAGENET_STD[c];
            }
        }
        return chw;
    }
}
