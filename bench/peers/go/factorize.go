// Go peer: the seed's four numbers by the naive method (every i in 1..=n tried), sequentially,
// one number per task on two goroutines, and in ranges of 10^6 trial divisions on two
// goroutines. Every result is checked. Prints one JSON object:
// {"peer": ..., "go": "go1.19.8", "unit": "seconds", "figures": {name: [per repetition]}}.
//
// Usage: go build -o factorize-go factorize.go && ./factorize-go [-repeat R]
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"reflect"
	"runtime"
	"sort"
	"sync"
	"time"
)

var numbers = []uint64{53541233, 21235343, 11421443, 5423123}

var expected = [][]uint64{
	{1, 5501, 9733, 53541233},
	{1, 21235343},
	{1, 11, 383, 2711, 4213, 29821, 1038313, 11421443},
	{1, 5423123},
}

const workers = 2
const rangeSize = 1000000

// divisors lists the divisors of n in [from, to).
func divisors(n, from, to uint64) []uint64 {
	found := []uint64{}
	for i := from; i < to; i++ {
		if n%i == 0 {
			found = append(found, i)
		}
	}
	return found
}

func sequential() [][]uint64 {
	results := make([][]uint64, len(numbers))
	for index, n := range numbers {
		results[index] = divisors(n, 1, n+1)
	}
	return results
}

func perNumber() [][]uint64 {
	results := make([][]uint64, len(numbers))
	jobs := make(chan int, len(numbers))
	for index := range numbers {
		jobs <- index
	}
	close(jobs)
	var group sync.WaitGroup
	for w := 0; w < workers; w++ {
		group.Add(1)
		go func() {
			defer group.Done()
			for index := range jobs {
				results[index] = divisors(numbers[index], 1, numbers[index]+1)
			}
		}()
	}
	group.Wait()
	return results
}

type part struct {
	index    int
	from, to uint64
}

func inRanges() [][]uint64 {
	parts := []part{}
	for index, n := range numbers {
		for from := uint64(1); from <= n; from += rangeSize {
			to := from + rangeSize
			if to > n+1 {
				to = n + 1
			}
			parts = append(parts, part{index, from, to})
		}
	}
	jobs := make(chan part, len(parts))
	for _, p := range parts {
		jobs <- p
	}
	close(jobs)
	results := make([][]uint64, len(numbers))
	for index := range results {
		results[index] = []uint64{}
	}
	var lock sync.Mutex
	var group sync.WaitGroup
	for w := 0; w < workers; w++ {
		group.Add(1)
		go func() {
			defer group.Done()
			for p := range jobs {
				found := divisors(numbers[p.index], p.from, p.to)
				lock.Lock()
				results[p.index] = append(results[p.index], found...)
				lock.Unlock()
			}
		}()
	}
	group.Wait()
	for _, found := range results {
		sort.Slice(found, func(a, b int) bool { return found[a] < found[b] })
	}
	return results
}

func timed(name string, run func() [][]uint64) float64 {
	started := time.Now()
	results := run()
	wall := time.Since(started).Seconds()
	if !reflect.DeepEqual(results, expected) {
		fmt.Fprintf(os.Stderr, "%s: wrong results: %v\n", name, results)
		os.Exit(1)
	}
	return wall
}

func main() {
	repeat := flag.Int("repeat", 5, "repetitions")
	flag.Parse()
	figures := map[string][]float64{"sequential": {}, "per_number_2": {}, "ranges_2": {}}
	for r := 0; r < *repeat; r++ {
		figures["sequential"] = append(figures["sequential"], timed("sequential", sequential))
		figures["per_number_2"] = append(figures["per_number_2"], timed("per number", perNumber))
		figures["ranges_2"] = append(figures["ranges_2"], timed("ranges", inRanges))
	}
	out, err := json.Marshal(map[string]interface{}{
		"peer":    "go factorize",
		"go":      runtime.Version(),
		"unit":    "seconds",
		"figures": figures,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(string(out))
}
