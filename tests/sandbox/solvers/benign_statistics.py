# expect: 5 4.5 4 2.138 2.0
import statistics

data = [2, 4, 4, 4, 5, 5, 7, 9]
print(
    statistics.mean(data),
    statistics.median(data),
    statistics.mode(data),
    round(statistics.stdev(data), 3),
    statistics.pstdev(data),
)
print(statistics.fmean([1.5, 2.5]), statistics.median_low([1, 3, 5, 7]), statistics.harmonic_mean([1, 2, 4]))
