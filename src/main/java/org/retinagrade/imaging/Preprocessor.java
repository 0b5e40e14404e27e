package org.retinagrade.imaging;

import java.util.ArrayList;
import java.util.List;
import org.opencv.core.Core;
import org.opencv.core.CvType;
import org.opencv.core.Mat;
import org.opencv.core.MatOfByte;
import org.opencv.core.Point;
import org.opencv.core.Rect;
import org.opencv.core.Scalar;
import org.opencv.core.Size;
import org.opencv.imgcodecs.Imgcodecs;
import org.opencv.imgproc.CLAHE;
import org.opencv.imgproc.Imgproc;

/**
 * Prepares fundus photographs: decode, find the circular field, crop a square around it
 * (padding with black where the field runs past the frame), blank everything outside the
 * circle, resize with antialiasing (area averaging when shrinking), then the optional Ben
 * Graham and CLAHE steps. Output is an 8-bit RGB square Mat. Thread-safe; each call
 * allocates its own buffers, and the caller releases the returned Mat.
 */
public final class Preprocessor {

    private final PreprocessConfig config;

    public Preprocessor(PreprocessConfig config) {
        OpenCv.load();
        this.config = config;
    }

    public PreprocessConfig config() {
        return config;
    }

    /** A prepared image: the square RGB output (null when ungradable) and the detected field. */
    public record Prepared(Mat rgb, FundusRegion region) {
        public boolean gradable() {
            return region.gradable();
        }
    }

    /** Decodes JPEG, PNG, TIFF or BMP bytes into an 8-bit RGB Mat. */
    public static Mat decode(byte[] encoded) {
        OpenCv.load();
        MatOfByte buffer = new MatOfByte(encoded);
        Mat bgr = Imgcodecs.imdecode(buffer, Imgcodecs.IMREAD_COLOR);
        buffer.release();
        if (bgr.empty()) {
            throw new IllegalArgumentException("image cannot be decoded (" + encoded.length + " bytes)");
        }
        Imgproc.cvtColor(bgr, bgr, Imgproc.COLOR_BGR2RGB);
        return bgr;
    }

    public Prepared prepare(byte[] encoded) {
        Mat rgb = decode(encoded);
        try {
            return prepare(rgb);
        } finally {
            rgb.release();
        }
    }

    /** Prepares an 8-bit RGB image; the input is left unchanged. */
    public Prepared prepare(Mat rgb) {
        FundusRegion region = FundusRegion.detect(rgb);
        if (!region.gradable()) {
            return new Prepared(null, region);
        }
        Mat square = cropToField(rgb, region);
        Mat resized = resize(square, config.resolution());
        square.release();
        if (config.benGraham()) {
            benGraham(resized);
        }
        if (config.clahe()) {
            clahe(resized, config.claheClipLimit(), config.claheTiles());
        }
        return new Prepared(resized, region);
    }

    /** Cuts the square around the field, pads it with black, and blanks pixels outside the circle. */
    static Mat cropToField(Mat rgb, FundusRegion region) {
        int side = Math.max(2, (int) Math.round(2 * region.radius()));
        int left = (int) Math.round(region.centreX() - side / 2.0);
        int top = (int) Math.round(region.centreY() - side / 2.0);
        Mat square = Mat.zeros(side, side, rgb.type());

        int x0 = Math.max(0, left);
        int y0 = Math.max(0, top);
        int x1 = Math.min(rgb.cols(), left + side);
        int y1 = Math.min(rgb.rows(), top + side);
        if (x1 > x0 && y1 > y0) {
            Mat source = rgb.submat(new Rect(x0, y0, x1 - x0, y1 - y0));
            Mat target = square.submat(new Rect(x0 - left, y0 - top, x1 - x0, y1 - y0));
            source.copyTo(target);
            source.release();
            target.release();
        }

        Mat circle = Mat.zeros(side, side, CvType.CV_8UC1);
        Imgproc.circle(circle, new Point((side - 1) / 2.0, (side - 1) / 2.0), side / 2, new Scalar(255), -1, Imgproc.LINE_8);
        Mat masked = Mat.zeros(side, side, rgb.type());
        square.copyTo(masked, circle);
        square.release();
        circle.release();
        return masked;
    }

    /** Resizes a square to {@code size}, area-averaging when shrinking so that no aliasing appears. */
    public static Mat resize(Mat image, int size) {
        Mat resized = new Mat();
        int interpolation = image.cols() > size ? Imgproc.INTER_AREA : Imgproc.INTER_LINEAR;
        Imgproc.resize(image, resized, new Size(size, size), 0, 0, interpolation);
        return resized;
    }

    /** Local average colour subtraction in place; pixels outside 90 % of the field radius become 128. */
    static void benGraham(Mat rgb) {
        int size = rgb.cols();
        Mat blurred = new Mat();
        Imgproc.GaussianBlur(rgb, blurred, new Size(0, 0), size / 30.0);
        Core.addWeighted(rgb, 4, blurred, -4, 128, rgb);
        blurred.release();
        Mat outside = new Mat(size, size, CvType.CV_8UC1, new Scalar(255));
        Imgproc.circle(outside, new Point((size - 1) / 2.0, (size - 1) / 2.0), (int) Math.round(size / 2.0 * 0.9),
                new Scalar(0), -1, Imgproc.LINE_8);
        rgb.setTo(new Scalar(128, 128, 128), outside);
        outside.release();
    }

    /** CLAHE on the lightness channel of CIELAB, in place. */
    static void clahe(Mat rgb, double clipLimit, int tiles) {
        Mat lab = new Mat();
        Imgproc.cvtColor(rgb, lab, Imgproc.COLOR_RGB2Lab);
        List<Mat> channels = new ArrayList<>();
        Core.split(lab, channels);
        CLAHE clahe = Imgproc.createCLAHE(clipLimit, new Size(tiles, tiles));
        clahe.apply(channels.get(0), channels.get(0));
        Core.merge(channels, lab);
        Imgproc.cvtColor(lab, rgb, Imgproc.COLOR_Lab2RGB);
        channels.forEach(Mat::release);
        lab.release();
    }
}
