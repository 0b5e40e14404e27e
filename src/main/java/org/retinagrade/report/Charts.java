package org.retinagrade.report;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.geom.Ellipse2D;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.annotations.XYTextAnnotation;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.GrayPaintScale;
import org.jfree.chart.renderer.xy.XYBlockRenderer;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.title.PaintScaleLegend;
import org.jfree.data.category.DefaultCategoryDataset;
import org.jfree.data.xy.DefaultXYZDataset;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;
import org.retinagrade.evaluation.GradeMetrics;
import org.retinagrade.evaluation.Metric;

/** The report's charts, drawn with JFreeChart and returned as PNG bytes. Stateless. */
public final class Charts {

    static final int WIDTH = 640;
    static final int HEIGHT = 420;

    private Charts() {
    }

    static byte[] png(JFreeChart chart, int width, int height) throws IOException {
        chart.setBackgroundPaint(Color.WHITE);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ChartUtils.writeChartAsPNG(out, chart, width, height);
        return out.toByteArray();
    }

    /** Confusion matrix heatmap, reference grade on the vertical axis, with the counts written in the cells. */
    public static byte[] confusion(double[][] matrix) throws IOException {
        int n = matrix.length;
        double[][] series = new double[3][n * n];
        double max = 1;
        for (int t = 0; t < n; t++) {
            for (int p = 0; p < n; p++) {
                int k = t * n + p;
                series[0][k] = p;
                series[1][k] = t;
                series[2][k] = matrix[t][p];
                max = Math.max(max, matrix[t][p]);
            }
        }
        DefaultXYZDataset dataset = new DefaultXYZDataset();
        dataset.addSeries("count", series);
        NumberAxis predicted = new NumberAxis("predicted grade");
        NumberAxis reference = new NumberAxis("reference grade");
        for (NumberAxis axis : List.of(predicted, reference)) {
            axis.setStandardTickUnits(NumberAxis.createIntegerTickUnits());
            axis.setRange(-0.5, n - 0.5);
        }
        reference.setInverted(true);
        XYBlockRenderer renderer = new XYBlockRenderer();
        double top = max;
        GrayPaintScale scale = new GrayPaintScale(0, top) {
            @Override
            public java.awt.Paint getPaint(double value) {
                float v = (float) Math.max(0, Math.min(1, value / top));
                return new Color(1 - 0.8f * v, 1 - 0.55f * v, 1 - 0.2f * v);
            }
        };
        renderer.setPaintScale(scale);
        XYPlot plot = new XYPlot(dataset, predicted, reference, renderer);
        for (int t = 0; t < n; t++) {
            for (int p = 0; p < n; p++) {
                XYTextAnnotation label = new XYTextAnnotation(String.valueOf((long) matrix[t][p]), p, t);
                label.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 14));
                label.setPaint(matrix[t][p] > top * 0.6 ? Color.WHITE : Color.BLACK);
                plot.addAnnotation(label);
            }
        }
        JFreeChart chart = new JFreeChart("Confusion matrix", plot);
        chart.removeLegend();
        PaintScaleLegend legend = new PaintScaleLegend(scale, new NumberAxis("images"));
        legend.setPosition(org.jfree.chart.ui.RectangleEdge.RIGHT);
        chart.addSubtitle(legend);
        return png(chart, 520, 460);
    }

    /** ROC curve of referable DR with the operating points marked. */
    public static byte[] roc(List<ReportData.PredictionRow> rows, Map<String, Metric> metrics) throws IOException {
        List<ReportData.PredictionRow> sorted = rows.stream()
                .sorted(Comparator.comparingDouble(ReportData.PredictionRow::referableScore).reversed()).toList();
        double positives = rows.stream().filter(r -> r.trueGrade() >= 2).count();
        double negatives = rows.size() - positives;
        XYSeries curve = new XYSeries("ROC", false);
        curve.add(0, 0);
        double tp = 0;
        double fp = 0;
        for (int i = 0; i < sorted.size(); i++) {
            if (sorted.get(i).trueGrade() >= 2) {
                tp++;
            } else {
                fp++;
            }
            boolean lastOfTie = i == sorted.size() - 1 || sorted.get(i + 1).referableScore() != sorted.get(i).referableScore();
            if (lastOfTie && positives > 0 && negatives > 0) {
                curve.add(fp / negatives, tp / positives);
            }
        }
        XYSeries chance = new XYSeries("chance", false);
        chance.add(0, 0);
        chance.add(1, 1);
        XYSeriesCollection dataset = new XYSeriesCollection();
        dataset.addSeries(curve);
        dataset.addSeries(chance);
        for (String point : List.of("high_sensitivity", "high_specificity", "threshold")) {
            Metric sensitivity = metrics.get("referable_sensitivity_" + point);
            Metric specificity = metrics.get("referable_specificity_" + point);
            if (sensitivity != null && specificity != null && sensitivity.defined() && specificity.defined()) {
                XYSeries marker = new XYSeries(point.replace('_', ' '), false);
                marker.add(1 - specificity.value(), sensitivity.value());
                dataset.addSeries(marker);
            }
        }
        Metric auc = metrics.get("referable_auc");
        String title = "Referable DR (grade 2+): ROC" + (auc != null && auc.defined()
                ? String.format(java.util.Locale.ROOT, ", AUC %.3f", auc.value()) : ", AUC undefined");
        JFreeChart chart = ChartFactory.createXYLineChart(title, "1 - specificity", "sensitivity", dataset,
                PlotOrientation.VERTICAL, true, false, false);
        XYPlot plot = chart.getXYPlot();
        XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer();
        renderer.setSeriesShapesVisible(0, false);
        renderer.setSeriesPaint(0, new Color(30, 90, 170));
        renderer.setSeriesStroke(0, new BasicStroke(2f));
        renderer.setSeriesShapesVisible(1, false);
        renderer.setSeriesPaint(1, Color.GRAY);
        Color[] markerColors = {new Color(200, 60, 40), new Color(40, 150, 70), new Color(150, 80, 180)};
        for (int s = 2; s < dataset.getSeriesCount(); s++) {
            renderer.setSeriesLinesVisible(s, false);
            renderer.setSeriesShape(s, new Ellipse2D.Double(-6, -6, 12, 12));
            renderer.setSeriesPaint(s, markerColors[(s - 2) % markerColors.length]);
        }
        plot.setRenderer(renderer);
        ((NumberAxis) plot.getDomainAxis()).setRange(0, 1);
        ((NumberAxis) plot.getRangeAxis()).setRange(0, 1.02);
        return png(chart, WIDTH, HEIGHT);
    }

    /** Reliability diagram: accuracy against mean top-grade probability per bin. */
    public static byte[] reliability(double[][] bins) throws IOException {
        XYSeries observed = new XYSeries("model", false);
        for (double[] bin : bins) {
            if (bin[0] > 0) {
                observed.add(bin[1], bin[2]);
            }
        }
        XYSeries perfect = new XYSeries("perfect calibration", false);
        perfect.add(0, 0);
        perfect.add(1, 1);
        XYSeriesCollection dataset = new XYSeriesCollection(observed);
        dataset.addSeries(perfect);
        JFreeChart chart = ChartFactory.createXYLineChart("Reliability (top-grade probability, 10 bins)", "mean confidence",
                "accuracy", dataset, PlotOrientation.VERTICAL, true, false, false);
        XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer();
        renderer.setSeriesPaint(0, new Color(200, 90, 30));
        renderer.setSeriesShapesVisible(1, false);
        renderer.setSeriesPaint(1, Color.GRAY);
        chart.getXYPlot().setRenderer(renderer);
        ((NumberAxis) chart.getXYPlot().getDomainAxis()).setRange(0, 1);
        ((NumberAxis) chart.getXYPlot().getRangeAxis()).setRange(0, 1.02);
        return png(chart, WIDTH, HEIGHT);
    }

    /** Training loss (the training objective), validation NLL and validation quadratic kappa per epoch. */
    public static byte[] training(List<ReportData.EpochRow> history) throws IOException {
        XYSeries train = new XYSeries("training loss");
        XYSeries validation = new XYSeries("validation NLL (cross-entropy)");
        XYSeries kappa = new XYSeries("validation quadratic kappa");
        for (ReportData.EpochRow row : history) {
            addIfDefined(train, row.epoch(), row.trainLoss());
            addIfDefined(validation, row.epoch(), row.validationLoss());
            addIfDefined(kappa, row.epoch(), row.validationKappa());
        }
        XYSeriesCollection dataset = new XYSeriesCollection(train);
        dataset.addSeries(validation);
        dataset.addSeries(kappa);
        JFreeChart chart = ChartFactory.createXYLineChart("Training curves", "epoch", "value", dataset,
                PlotOrientation.VERTICAL, true, false, false);
        ((NumberAxis) chart.getXYPlot().getDomainAxis()).setStandardTickUnits(NumberAxis.createIntegerTickUnits());
        XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer();
        chart.getXYPlot().setRenderer(renderer);
        return png(chart, WIDTH, HEIGHT);
    }

    /** Precision, recall and F1 per grade (undefined values are left out). */
    public static byte[] perGrade(Map<String, Metric> metrics) throws IOException {
        DefaultCategoryDataset dataset = new DefaultCategoryDataset();
        for (int g = 0; g < GradeMetrics.GRADES; g++) {
            for (String kind : List.of("precision", "recall", "f1")) {
                Metric metric = metrics.get(kind + "_grade_" + g);
                if (metric != null && metric.defined()) {
                    dataset.addValue(metric.value(), kind, "grade " + g);
                }
            }
        }
        JFreeChart chart = ChartFactory.createBarChart("Per-grade precision, recall and F1", "", "value", dataset,
                PlotOrientation.VERTICAL, true, false, false);
        ((NumberAxis) chart.getCategoryPlot().getRangeAxis()).setRange(0, 1.0);
        return png(chart, WIDTH, HEIGHT);
    }

    private static void addIfDefined(XYSeries series, int x, double y) {
        if (!Double.isNaN(y)) {
            series.add(x, y);
        }
    }
}
