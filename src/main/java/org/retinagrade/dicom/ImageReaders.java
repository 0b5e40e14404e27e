package org.retinagrade.dicom;

import java.io.IOException;
import java.util.Locale;
import javax.imageio.ImageReader;
import javax.imageio.spi.IIORegistry;
import javax.imageio.spi.ImageReaderSpi;

/**
 * Makes the image codecs that PixelMed looks up by format name available: JPEG lossless
 * ({@code pixelmed-imageio}) and JPEG 2000 (JAI Image I/O). PixelMed's own JPEG lossless
 * service provider prints a line each time ImageIO queries whether it can read a stream. It
 * is therefore replaced by a quiet provider that registers the same format name and is never
 * chosen for other files.
 */
final class ImageReaders {

    private static volatile boolean registered;

    private ImageReaders() {
    }

    static synchronized void registerDicomCodecs() {
        if (registered) {
            return;
        }
        IIORegistry registry = IIORegistry.getDefaultInstance();
        registry.registerApplicationClasspathSpis();
        ImageReaderSpi lossless = null;
        var providers = registry.getServiceProviders(ImageReaderSpi.class, true);
        while (providers.hasNext()) {
            ImageReaderSpi spi = providers.next();
            if (spi.getClass().getName().equals("com.pixelmed.imageio.JPEGLosslessImageReaderSpi")) {
                lossless = spi;
            }
        }
        if (lossless == null) {
            lossless = new com.pixelmed.imageio.JPEGLosslessImageReaderSpi();
        } else {
            registry.deregisterServiceProvider(lossless, ImageReaderSpi.class);
        }
        registry.registerServiceProvider(new QuietReaderSpi(lossless), ImageReaderSpi.class);
        registered = true;
    }

    /** Service provider that matches the delegate's format names but is never chosen by probing a stream. */
    private static final class QuietReaderSpi extends ImageReaderSpi {

        private final ImageReaderSpi delegate;

        QuietReaderSpi(ImageReaderSpi delegate) {
            super(delegate.getVendorName(), delegate.getVersion(), delegate.getFormatNames(), new String[0],
                    new String[0], delegate.getPluginClassName(), new Class<?>[] {javax.imageio.stream.ImageInputStream.class},
                    null, false, null, null, null, null, false, null, null, null, null);
            this.delegate = delegate;
        }

        @Override
        public boolean canDecodeInput(Object source) {
            return false;
        }

        @Override
        public ImageReader createReaderInstance(Object extension) throws IOException {
            return delegate.createReaderInstance(extension);
        }

        @Override
        public String getDescription(Locale locale) {
            return delegate.getDescription(locale) + " (queried by format name only)";
        }
    }
}
