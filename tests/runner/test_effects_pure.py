"""What a command does to the reader's state, judged from its words (runner.notation.effects):
the verdicts that decide what a `hidden` block may hold and what `starts-from` replays."""

from __future__ import annotations

import pytest

from runner.notation.effects import effect


@pytest.mark.parametrize(
    ("command", "verdict"),
    [
        # nothing to judge
        ("", "unknown"),
        ("done", "unknown"),
        ("sudo", "unknown"),
        ("frobnicate --all", "unknown"),
        ("ls; frobnicate", "unknown"),  # one unknown part makes the whole unknown
        ("ls; rm f", "changes"),  # one changing part is enough
        ("rm f; frobnicate", "changes"),
        ("ls | grep a && cat b", "looks"),
        # a continuation line is one command
        ("docker \\\nps", "looks"),
        ("docker-machine \\\nls", "looks"),
        # redirections write files, except to /dev/null and to another descriptor
        ("ls > out", "changes"),
        ("ls >> out", "changes"),
        ("ls >out", "changes"),
        ("ls 2> err", "changes"),
        ("ls > /dev/null", "looks"),
        ("ls 2>/dev/null", "looks"),
        ("ls 2>&1", "looks"),
        ("ls >&2", "looks"),
        ("docker node ls 2>&1 | grep Leader", "looks"),  # was "unknown": `&` split it
        ("ls 3<&0", "looks"),
        ("ls > out 2>&1", "changes"),
        ("ls 2>&1 >> out", "changes"),
        ("echo 'a > b'", "looks"),  # quoted: text, not a redirection
        ('echo "a; rm b"', "looks"),
        ("echo $(rm x)", "looks"),  # a substitution only feeds arguments
        # shell keywords and loops: the body is judged part by part
        ("for n in 1 2; do ls; done", "looks"),
        ("for n in 1 2; do rm $n; done", "changes"),
        ("select x in a b; do echo $x; done", "looks"),
        ("ls; case x in a) true;; esac", "looks"),
        ("while true; do ls; done", "looks"),
        ("until false; do ls; done", "looks"),
        ("if test -f x; then ls; fi", "looks"),
        ("if test -f x; then rm x; fi", "changes"),
        ("if rm -f x; then ls; fi", "changes"),
        ("while read l; do echo $l; done", "changes"),
        ("while\ntrue\ndo\nls\ndone", "looks"),
        ("{ ls; }", "looks"),
        ("! grep a b", "looks"),
        # assignments set what later commands use; as a prefix they do not
        ("A=1", "changes"),
        ("A=1 B+=2", "changes"),
        ("A=1 ls", "looks"),
        ("A=1 rm f", "changes"),
        ("TOKEN=$(docker swarm join-token -q worker)", "changes"),
        # wrappers are looked through
        ("sudo rm f", "changes"),
        ("sudo ls", "looks"),
        ("time rm f", "changes"),
        ("nohup rm f", "changes"),
        ("command rm f", "changes"),
        ("exec rm f", "changes"),
        ("sudo A=1 cat f", "looks"),
        ("export A=1", "changes"),
        ("cd /tmp", "changes"),
        ("cat f", "looks"),
        # docker
        ("docker", "looks"),
        ("docker --version", "looks"),
        ("docker ps -a", "looks"),
        ("docker -D ls", "changes"),
        ("docker --debug ps", "looks"),
        ("docker rm x", "changes"),
        ("docker node ls", "looks"),
        ("docker node", "changes"),
        ("docker node rm x", "changes"),
        ("docker service ps web --format '{{.Node}}' | sort", "looks"),
        ("docker swarm init", "changes"),
        ("docker swarm join-token worker", "looks"),
        ("docker swarm join-token manager -q", "looks"),
        ("docker swarm join-token --rotate worker", "changes"),
        ("docker swarm init > /dev/null", "changes"),
        # docker-machine, and commands typed through its ssh
        ("docker-machine", "changes"),
        ("docker-machine ls", "looks"),
        ("docker-machine --native-ssh ls", "looks"),
        ("docker-machine ip node-01", "looks"),
        ("docker-machine create -d virtualbox node-01", "changes"),
        ("eval $(docker-machine env node-01)", "changes"),
        ("docker-machine ssh node-04", "looks"),
        ("docker-machine ssh node-04 docker ps", "looks"),
        ("docker-machine ssh node-04 docker swarm leave", "changes"),
        ("docker-machine ssh node-04 frobnicate", "unknown"),
        # curl reads unless told to send or to write
        ("curl -s http://10.0.0.2:8080/", "looks"),
        ("curl -X POST http://a/", "changes"),
        ("curl -d x=1 http://a/", "changes"),
        ("curl --data x=1 http://a/", "changes"),
        ("curl -o f http://a/", "changes"),
        ("curl -O http://a/f", "changes"),
        ("curl --request PUT http://a/", "changes"),
        ("curl -T f http://a/", "changes"),
        ("curl -F a=@f http://a/", "changes"),
    ],
)
def test_what_a_command_does(command: str, verdict: str) -> None:
    assert effect(command) == verdict
