# make-fixture.awk: a small Bitbrains-format trace for the backtest golden
# test, the same on every machine: 9 days at 5 minutes of a daily CPU
# pattern with a weekly-ish step in memory, deterministic "noise", padding
# rows at the start and a few bad rows whose line numbers the test knows.
BEGIN {
    OFS = ";\t"
    print "Timestamp [ms]", "CPU cores", "CPU capacity provisioned [MHZ]", "CPU usage [MHZ]", \
          "CPU usage [%]", "Memory capacity provisioned [KB]", "Memory usage [KB]", \
          "Disk read throughput [KB/s]", "Disk write throughput [KB/s]", \
          "Network received throughput [KB/s]", "Network transmitted throughput [KB/s]"
    t0 = 1376000000
    # padding: the VM did not exist yet (lines 2-3)
    print t0 - 600, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
    print t0 - 300, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
    for (i = 0; i < 9 * 288; i++) {
        t = t0 + i * 300
        noise = ((i * 7919) % 211) / 211.0
        cpu = 1300 + 800 * sin(2 * 3.141592653589793 * i / 288) + 300 * noise
        if (i % 97 == 0)
            cpu += 1500                     # a spike now and then
        mem = 2097152 + (i >= 5 * 288 ? 524288 : 0) + 65536 * noise
        print t, 2, 5200, cpu, cpu / 52, 8388608, mem, 10, 20, 1, 2
        if (i == 100) print "garbage"                               # line 105
        if (i == 200) print t, 2, 5200, "NaN", 0, 8388608, mem, 0, 0, 0, 0  # line 206
        if (i == 300) print t - 900, 2, 5200, 1000, 0, 8388608, mem, 0, 0, 0, 0  # 307: backwards
        if (i == 400) print t, 2, 5200, 1000, 0, 8388608, mem, 0, 0, 0, 0  # line 408: duplicate
        if (i == 500) print t + 1, 2, 5200, -5, 0, 8388608, mem, 0, 0, 0, 0  # line 509: negative
    }
}
