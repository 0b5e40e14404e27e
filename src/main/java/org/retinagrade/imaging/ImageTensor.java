package org.retinagrade.imaging;

import java.util.ArrayList;
import java.util.List;
import org.opencv.core.Core;
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
        int plane = rgbFloat.rows() * rgbFloat.cols();
        float[] chw = new float[plane * 3];
        List<Mat> channels = new ArrayList<>(3);
        Core.split(rgbFloat, channels);
        float[] values = new float[plane];
        for (int c = 0; c < 3; c++) {
            channels.get(c).get(0, 0, values);
            float mean = IMAGENET_MEAN[c];
            float std = IMAGENET_STD[c];
            int offset = c * plane;
            for (int i = 0; i < plane; i++) {
                chw[offset + i] = (values[i] - mean) / std;
            }
            channels.get(c).release();
        }
        return chw;
    }
}
