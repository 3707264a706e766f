# expect: 4 [1, 2, 3, 5, 8] 2 3
import bisect


def lis_length(seq):
    tails = []
    for x in seq:
        i = bisect.bisect_left(tails, x)
        if i == len(tails):
            tails.append(x)
        else:
            tails[i] = x
    return len(tails)


arr = [1, 3, 8]
bisect.insort(arr, 2)
bisect.insort(arr, 5)
print(lis_length([10, 9, 2, 5, 3, 7, 101, 18]), arr, bisect.bisect_left(arr, 3), bisect.bisect_right(arr, 3))
