#!/bin/sh
# Print the 1-minute load average in a form the agenda's metric regex reads.
read -r load1 _ < /proc/loadavg
echo "load1=$load1"
