package io.pagedkv.examples.simulate;

import java.awt.BasicStroke;
import java.awt.Color;
import java.io.File;
import java.io.IOException;
import java.util.List;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.CombinedDomainXYPlot;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/**
 * Draws concurrency and KV memory over time for each strategy of a comparison as a PNG (headless
 * JFreeChart). At most {@value #MAX_POINTS} points per line: longer runs are sampled evenly. Stateless.
 */
public final class SimulationChart {

    /** Most points drawn per line. */
    public static final int MAX_POINTS = 2000;
    private static final Color[] COLORS = {new Color(0x1f77b4), new Color(0xd62728), new Color(0xff7f0e)};

    private SimulationChart() {
    }

    /** Writes a {@code width x height} PNG of {@code results} to {@code file}. */
    public static void write(String title, List<SimulationResult> results, File file, int width, int height)
            throws IOException {
        XYSeriesCollection running = new XYSeriesCollection();
        XYSeriesCollection memory = new XYSeriesCollection();
        for (SimulationResult r : results) {
            XYSeries c = new XYSeries(r.strategy() + " running", false, true);
            XYSeries live = new XYSeries(r.strategy() + " live KV", false, true);
            XYSeries held = new XYSeries(r.strategy() + " reserved KV", false, true);
            TimeSeries s = r.series();
            int stride = Math.max(1, (s.size() + MAX_POINTS - 1) / MAX_POINTS);
            for (int i = 0; i < s.size(); i += stride) {
                c.add(i, s.running(i));
                live.add(i, s.liveBytes(i) / (double) (1L << 30));
                held.add(i, s.reservedBytes(i) / (double) (1L << 30));
            }
            running.addSeries(c);
            memory.addSeries(live);
            memory.addSeries(held);
        }
        XYLineAndShapeRenderer runRenderer = new XYLineAndShapeRenderer(true, false);
        XYLineAndShapeRenderer memRenderer = new XYLineAndShapeRenderer(true, false);
        for (int i = 0; i < results.size(); i++) {
            Color color = COLORS[i % COLORS.length];
            runRenderer.setSeriesPaint(i, color);
            memRenderer.setSeriesPaint(2 * i, color);
            memRenderer.setSeriesPaint(2 * i + 1, color);
            memRenderer.setSeriesStroke(2 * i + 1, new BasicStroke(1.0f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER,
                    10f, new float[] {6f, 4f}, 0f));
        }
        XYPlot top = new XYPlot(running, null, new NumberAxis("requests running"), runRenderer);
        XYPlot bottom = new XYPlot(memory, null, new NumberAxis("KV memory (GiB)"), memRenderer);
        CombinedDomainXYPlot plot = new CombinedDomainXYPlot(new NumberAxis("scheduler step"));
        plot.add(top, 1);
        plot.add(bottom, 1);
        JFreeChart chart = new JFreeChart(title, JFreeChart.DEFAULT_TITLE_FONT, plot, true);
        chart.setBackgroundPaint(Color.WHITE);
        ChartUtils.saveChartAsPNG(file, chart, width, height);
    }
}
