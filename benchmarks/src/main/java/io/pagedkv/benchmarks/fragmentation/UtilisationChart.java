package io.pagedkv.benchmarks.fragmentation;

import io.pagedkv.examples.simulate.SimulationResult;
import io.pagedkv.examples.simulate.TimeSeries;
import java.awt.Color;
import java.io.File;
import java.io.IOException;
import java.util.List;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/** Draws the share of a KV budget holding live tokens over scheduler steps, one line per allocator. Stateless. */
public final class UtilisationChart {

    private static final int MAX_POINTS = 2000;
    private static final Color[] COLORS = {new Color(0x1f77b4), new Color(0xd62728), new Color(0xff7f0e)};

    private UtilisationChart() {
    }

    /** Writes a 1100x600 PNG with one line per run, labelled by {@code names}. */
    public static void write(String title, List<SimulationResult> runs, String[] names, long budgetBytes, File file)
            throws IOException {
        XYSeriesCollection data = new XYSeriesCollection();
        for (int k = 0; k < runs.size(); k++) {
            TimeSeries s = runs.get(k).series();
            XYSeries line = new XYSeries(names[k], false, true);
            int stride = Math.max(1, (s.size() + MAX_POINTS - 1) / MAX_POINTS);
            for (int i = 0; i < s.size(); i += stride) {
                line.add(i, 100.0 * s.liveBytes(i) / budgetBytes);
            }
            data.addSeries(line);
        }
        XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(true, false);
        for (int k = 0; k < runs.size(); k++) {
            renderer.setSeriesPaint(k, COLORS[k % COLORS.length]);
        }
        NumberAxis y = new NumberAxis("live KV / budget (%)");
        y.setRange(0, 100);
        XYPlot plot = new XYPlot(data, new NumberAxis("scheduler step"), y, renderer);
        JFreeChart chart = new JFreeChart(title, JFreeChart.DEFAULT_TITLE_FONT, plot, true);
        chart.setBackgroundPaint(Color.WHITE);
        ChartUtils.saveChartAsPNG(file, chart, 1100, 600);
    }
}
