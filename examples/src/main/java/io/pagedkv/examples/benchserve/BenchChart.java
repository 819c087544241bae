package io.pagedkv.examples.benchserve;

import java.awt.Color;
import java.awt.Font;
import java.awt.RenderingHints;
import java.awt.Graphics2D;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;
import java.io.File;
import java.io.IOException;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.renderer.category.BarRenderer;
import org.jfree.data.category.DefaultCategoryDataset;

/**
 * Draws one or more benchmark runs side by side as a PNG (headless JFreeChart): latency percentiles
 * on the left (TTFT, TPOT and end-to-end, ms), throughput on the right (output tokens per second).
 * Stateless.
 */
public final class BenchChart {

    private static final Color[] COLORS = {new Color(0x1f77b4), new Color(0xd62728), new Color(0xff7f0e)};

    private BenchChart() {
    }

    /** Writes a {@code width x height} PNG comparing {@code runs} to {@code file}. */
    public static void write(List<BenchResult> runs, File file, int width, int height) throws IOException {
        DefaultCategoryDataset latency = new DefaultCategoryDataset();
        DefaultCategoryDataset throughput = new DefaultCategoryDataset();
        for (BenchResult r : runs) {
            latency.addValue(r.ttft().p50(), r.label(), "TTFT p50");
            latency.addValue(r.ttft().p90(), r.label(), "TTFT p90");
            latency.addValue(r.ttft().p99(), r.label(), "TTFT p99");
            latency.addValue(r.tpot().p50() * 10, r.label(), "10 x TPOT p50");
            latency.addValue(r.tpot().p99() * 10, r.label(), "10 x TPOT p99");
            latency.addValue(r.latency().p50(), r.label(), "latency p50");
            latency.addValue(r.latency().p99(), r.label(), "latency p99");
            throughput.addValue(r.outputThroughput(), r.label(), "output tok/s");
        }
        JFreeChart left = ChartFactory.createBarChart("Latency (ms, lower is better)", null, "ms", latency,
                PlotOrientation.VERTICAL, true, false, false);
        JFreeChart right = ChartFactory.createBarChart("Throughput (higher is better)", null, "output tokens / s",
                throughput, PlotOrientation.VERTICAL, false, false, false);
        style(left, runs.size());
        style(right, runs.size());
        BenchResult first = runs.get(0);
        String title = String.format(Locale.ROOT, "bench-serve: %s, %d %s requests at %s req/s (lengths x%.4g), %d processors",
                first.model(), first.requests(), first.workload(),
                Double.isInfinite(first.rate()) ? "inf" : BenchResult.f(first.rate()), first.scale(), first.processors());
        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        try {
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, width, height);
            int top = 30;
            g.setColor(Color.DARK_GRAY);
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 14));
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.drawString(title, 10, 20);
            int leftWidth = width * 3 / 4;
            left.draw(g, new Rectangle2D.Double(0, top, leftWidth, height - top));
            right.draw(g, new Rectangle2D.Double(leftWidth, top, width - leftWidth, height - top));
        } finally {
            g.dispose();
        }
        ImageIO.write(image, "png", file);
    }

    private static void style(JFreeChart chart, int series) {
        chart.setBackgroundPaint(Color.WHITE);
        CategoryPlot plot = chart.getCategoryPlot();
        plot.setBackgroundPaint(Color.WHITE);
        plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
        plot.getDomainAxis().setMaximumCategoryLabelLines(2);
        BarRenderer r = (BarRenderer) plot.getRenderer();
        r.setShadowVisible(false);
        r.setDrawBarOutline(false);
        for (int i = 0; i < series; i++) {
            r.setSeriesPaint(i, COLORS[i % COLORS.length]);
        }
    }
}
