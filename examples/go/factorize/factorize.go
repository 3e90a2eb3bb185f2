// The seed's Go factorize as a Quack plugin: it lists every divisor of n by trying each i in
// 1..=n, and is Splittable (split cuts one number into ranges of 10^6 candidates, merge joins
// their divisors), so the host spreads one big number over its workers.
//
// Build (Go 1.19 or later, with a C compiler for cgo):
//
//	cd examples/go/factorize && go build -buildmode=c-shared -o libgo_factorize.so .
//
// Loading the library starts a Go runtime in the process (its threads, its garbage collector,
// its signal handlers), and a fatal Go error (an unrecovered panic in a goroutine, a concurrent
// map write) ends that whole process. So the description names the runtime ("runtime"), and the
// host runs the plugin in worker processes of its own unless told otherwise. Every exported
// function recovers panics at the boundary and returns them as QUACK_PANICKED: a part whose range
// starts at 0 divides by zero, and the Go runtime's panic becomes that task's error.
package main

/*
#cgo CFLAGS: -I${SRCDIR}/../../../sdk/c
#include <stdint.h>
#include <stdlib.h>
#include "quack.h"
*/
import "C"

import (
	"bytes"
	"encoding/json"
	"fmt"
	"runtime"
	"runtime/cgo"
	"sort"
	"strings"
	"unsafe"
)

func main() {}

// The most candidates a task may try (about 10 s of work), and the size of split's parts.
const naiveLimit = 10_000_000_000
const partSize = 1_000_000

// divisors lists the divisors of n in [from, to), the seed's loop.
func divisors(n, from, to uint64) []uint64 {
	found := []uint64{}
	for i := from; i < to; i++ {
		if n%i == 0 {
			found = append(found, i)
		}
	}
	return found
}

// part is a task: the divisors of N among From..=To.
type part struct {
	N    uint64 `json:"n"`
	From uint64 `json:"from"`
	To   uint64 `json:"to"`
}

// readTask reads a number (a whole task) or a part; whole says which it was.
func readTask(input []byte) (task part, whole bool, err error) {
	var n uint64
	if json.Unmarshal(input, &n) == nil {
		if n == 0 {
			return task, true, fmt.Errorf("the number is 0, which every number divides: give 1 or more")
		}
		return part{N: n, From: 1, To: n}, true, nil
	}
	decoder := json.NewDecoder(bytes.NewReader(input))
	decoder.DisallowUnknownFields()
	if err := decoder.Decode(&task); err != nil {
		return task, false, fmt.Errorf("a task is a whole number or {\"n\", \"from\", \"to\"}, not %s", input)
	}
	if task.To < task.From || task.To > task.N {
		return task, false, fmt.Errorf("the part from %d to %d of %d is not a range of candidate divisors", task.From, task.To, task.N)
	}
	return task, false, nil
}

type factorizer struct{}

func (factorizer) run(input []byte) (any, error) {
	task, _, err := readTask(input)
	if err != nil {
		return nil, invalidInput{err}
	}
	if task.To-task.From >= naiveLimit {
		return nil, fmt.Errorf("%d is too large for the naive method (at most %d candidates)", task.N, uint64(naiveLimit))
	}
	found := divisors(task.N, task.From, task.To)
	if task.N%task.To == 0 {
		found = append(found, task.To)
	}
	return found, nil
}

func (factorizer) split(input []byte) (any, error) {
	task, whole, err := readTask(input)
	if err != nil {
		return nil, invalidInput{err}
	}
	if !whole {
		return []part{task}, nil
	}
	if task.N <= partSize || task.N > naiveLimit {
		return []uint64{task.N}, nil
	}
	count := (task.N + partSize - 1) / partSize
	size := (task.N + count - 1) / count
	parts := make([]part, 0, count)
	for index := uint64(0); index < count; index++ {
		to := (index + 1) * size
		if to > task.N {
			to = task.N
		}
		parts = append(parts, part{N: task.N, From: index*size + 1, To: to})
	}
	return parts, nil
}

func (factorizer) merge(input []byte) (any, error) {
	var parts [][]uint64
	if err := json.Unmarshal(input, &parts); err != nil {
		return nil, invalidInput{fmt.Errorf("merge takes a list of lists of divisors, [[u64]]")}
	}
	all := []uint64{}
	for _, found := range parts {
		all = append(all, found...)
	}
	sort.Slice(all, func(a, b int) bool { return all[a] < all[b] })
	merged := all[:0]
	for index, d := range all {
		if index == 0 || d != all[index-1] {
			merged = append(merged, d)
		}
	}
	return merged, nil
}

// invalidInput marks an error as the input's fault (QUACK_INVALID_INPUT).
type invalidInput struct{ error }

// ---- The boundary: the functions table.c puts in the quack.h table ----

// answer writes the JSON of value (or the error's message) to *out and returns the status.
func answer(out **C.char, value any, err error) C.quack_status {
	if err != nil {
		*out = C.CString(err.Error())
		if _, invalid := err.(invalidInput); invalid {
			return C.QUACK_INVALID_INPUT
		}
		return C.QUACK_FAILED
	}
	text, err := json.Marshal(value)
	if err != nil {
		*out = C.CString(err.Error())
		return C.QUACK_FAILED
	}
	*out = C.CString(string(text))
	return C.QUACK_OK
}

// recovered turns a panic in the function it is deferred in into QUACK_PANICKED.
func recovered(out **C.char, status *C.quack_status) {
	if caught := recover(); caught != nil {
		*out = C.CString(fmt.Sprint(caught))
		*status = C.QUACK_PANICKED
	}
}

func runtimeName() string {
	return "Go " + strings.TrimPrefix(runtime.Version(), "go")
}

//export quackDescribe
func quackDescribe(out **C.char) (status C.quack_status) {
	defer recovered(out, &status)
	description := map[string]any{
		"name":          "go-factorize",
		"version":       "1.0.0",
		"summary":       "Lists every divisor of n by trying each i in 1..=n, in Go (a CPU workload)",
		"hint":          "cpu",
		"runtime":       runtimeName(),
		"default_input": []uint64{53541233, 21235343, 11421443, 5423123},
		"examples": []map[string]any{
			{"method": "run", "input": 12, "expected": map[string]any{"Ok": []uint64{1, 2, 3, 4, 6, 12}}},
			{"method": "run", "input": 53541233, "expected": map[string]any{"Ok": []uint64{1, 5501, 9733, 53541233}}},
			{"method": "run", "input": map[string]uint64{"n": 12, "from": 0, "to": 3},
				"expected": map[string]any{"Err": "integer divide by zero"}},
			{"method": "merge", "input": [][]uint64{{1, 2, 4}, {4, 8}}, "expected": map[string]any{"Ok": []uint64{1, 2, 4, 8}}},
		},
	}
	return answer(out, description, nil)
}

//export quackMethods
func quackMethods(out **C.char) (status C.quack_status) {
	defer recovered(out, &status)
	signatures := []map[string]any{
		{"name": "run", "params": []string{"Task"}, "result": "[u64]"},
		{"name": "split", "params": []string{"Task"}, "result": "[Task]"},
		{"name": "merge", "params": []string{"[[u64]]"}, "result": "[u64]"},
	}
	return answer(out, signatures, nil)
}

//export quackNew
func quackNew(config *C.char, configLen C.size_t, instance *C.uintptr_t, out **C.char) (status C.quack_status) {
	defer recovered(out, &status)
	text := C.GoBytes(unsafe.Pointer(config), C.int(configLen))
	var settings map[string]string
	if err := json.Unmarshal(text, &settings); err != nil || len(settings) > 1 ||
		(len(settings) == 1 && settings["method"] != "naive") {
		*out = C.CString(fmt.Sprintf("go-factorize takes no configuration but {\"method\": \"naive\"}, got %s", text))
		return C.QUACK_INVALID_INPUT
	}
	// C holds a handle to the Go value, never a Go pointer.
	*instance = C.uintptr_t(cgo.NewHandle(factorizer{}))
	return C.QUACK_OK
}

//export quackCall
func quackCall(instance C.uintptr_t, method *C.char, input *C.char, inputLen C.size_t, out **C.char) (status C.quack_status) {
	defer recovered(out, &status)
	plugin := cgo.Handle(instance).Value().(factorizer)
	argument := C.GoBytes(unsafe.Pointer(input), C.int(inputLen))
	switch C.GoString(method) {
	case "run":
		value, err := plugin.run(argument)
		return answer(out, value, err)
	case "split":
		value, err := plugin.split(argument)
		return answer(out, value, err)
	case "merge":
		value, err := plugin.merge(argument)
		return answer(out, value, err)
	}
	*out = nil
	return C.QUACK_UNKNOWN_METHOD
}

//export quackFree
func quackFree(text *C.char) {
	C.free(unsafe.Pointer(text))
}

//export quackDrop
func quackDrop(instance C.uintptr_t) {
	cgo.Handle(instance).Delete()
}
