package wire

import "sort"

// Days lists the calendar's exceptions in date order, so the server can
// store the shipped calendar in its editable table.
func (c *Calendar) Days() (nonWorking, working []Date) {
	for d := range c.nonWorking {
		nonWorking = append(nonWorking, d)
	}
	for d := range c.working {
		working = append(working, d)
	}
	byDate := func(ds []Date) {
		sort.Slice(ds, func(i, j int) bool { return ds[i].Before(ds[j]) })
	}
	byDate(nonWorking)
	byDate(working)
	return nonWorking, working
}
