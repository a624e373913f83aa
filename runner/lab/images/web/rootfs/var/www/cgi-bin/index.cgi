#!/bin/sh
# Answers every request with the name of the container that served it.
printf "Content-Type: text/plain\r\n\r\n"
hostname
