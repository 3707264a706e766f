# expect: ['kiwi', 'apple', 'banana', 'cherry'] [(3, 'a'), (1, 'b'), (2, 'b')] [5, 4, 3, 1, 1]
words = ["banana", "kiwi", "apple", "cherry"]
records = [(2, "b"), (3, "a"), (1, "b")]
nums = [3, 1, 4, 1, 5]
print(sorted(words, key=lambda w: (len(w), w)), sorted(records, key=lambda r: (r[1], r[0])), sorted(nums, reverse=True))
nums.sort()
print(nums, min(words), max(records))
