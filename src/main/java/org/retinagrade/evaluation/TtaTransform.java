package org.retinagrade.evaluation;

import java.util.Arrays;
import java.util.Locale;
import org.opencv.core.Core;
import org.opencv.core.CvType;
import org.opencv.core.Mat;
import org.opencv.core.Rect;
import org.opencv.core.Size;
import org.opencv.imgproc.Imgproc;

/**
 * A test-time transform of one prepared square image. Applied to each image on its own,
 * never along the batch axis. Scales zoom about the centre and keep the image size:
 * {@code scale-1.1} crops the centre after enlarging, {@code scale-0.9} pads with black.
 */
public enum TtaTransform {
    IDENTITY("identity"),
    HORIZONTAL_FLIP("hflip"),
    VERTICAL_FLIP("vflip"),
    ROTATE_90("rot90"),
    ROTATE_180("rot180"),
    ROTATE_270("rot270"),
    SCALE_90("scale-0.9"),
    SCALE_110("scale-1.1");

    private final String label;

    TtaTransform(String label) {
        this.label = label;
    }

    public String label() {
        return label;
    }

    public static TtaTransform parse(String text) {
        for (TtaTransform t : values()) {
            if (t.label.equals(text.toLowerCase(Locale.ROOT))) {
                return t;
            }
        }
        throw new IllegalArgumentException("invalid TTA transform '" + text + "': expected one of "
                + Arrays.stream(values()).map(TtaTransform::label).toList());
    }

    /** Returns a new transformed copy of the image; the input is unchanged. */
    public Mat apply(Mat image) {
        Mat result = new Mat();
        switch (this) {
            case IDENTITY -> image.copyTo(result);
            case HORIZONTAL_FLIP -> Core.flip(image, result, 1);
            case VERTICAL_FLIP -> Core.flip(image, result, 0);
            case ROTATE_90 -> Core.rotate(image, result, Core.ROTATE_90_CLOCKWISE);
            case ROTATE_180 -> Core.rotate(image, result, Core.ROTATE_180);
            case ROTATE_270 -> Core.rotate(image, result, Core.ROTATE_90_COUNTERCLOCKWISE);
            case SCALE_90, SCALE_110 -> {
                double scale = this == SCALE_90 ? 0.9 : 1.1;
                int side = image.cols();
                int scaled = (int) Math.round(side * scale);
                Mat resized = new Mat();
                Imgproc.resize(image, resized, new Size(scaled, scaled), 0, 0,
                        scale < 1 ? Imgproc.INTER_AREA : Imgproc.INTER_LINEAR);
                if (scale > 1) {
                    int offset = (scaled - side) / 2;
                    Mat centre = resized.submat(new Rect(offset, offset, side, side));
                    centre.copyTo(result);
                    centre.release();
                } else {
                    result.create(side, side, image.type());
                    result.setTo(new org.opencv.core.Scalar(0, 0, 0));
                    int offset = (side - scaled) / 2;
                    Mat target = result.submat(new Rect(offset, offset, scaled, scaled));
                    resized.copyTo(target);
                    target.release();
                }
                resized.release();
            }
            default -> throw new IllegalStateException("unhandled transform " + this);
        }
        if (result.type() != image.type() && image.type() == CvType.CV_8UC3) {
            throw new IllegalStateException("transform changed the image type");
        }
        return result;
    }
}
