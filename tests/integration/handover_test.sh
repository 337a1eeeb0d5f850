#!/usr/bin/env bash
# The node's addresses handed over to svcdp and back (--take-over-address):
# the node namespace's kernel starts owning 192.168.56.11 and fd00:56::11
# on up0 (the NIC before DPDK takes it) with a default route and one more
# route per family (IPv6's via the router's link-local address, as router
# advertisements give it), and an "SSH" server on both; a LAN host
# connects to it before svcdp, through svcdp once the addresses are on the
# TAP, after SIGTERM (given back), after SIGKILL (off the network until
# `svcdp --restore-address`, the supervisor's hook), and after SIGKILL +
# restart (the stale state given back, then taken over).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${SVCDP_BIN:?set SVCDP_BIN to the svcdp binary}
# shellcheck source=netns.sh
. "$here/netns.sh"
topo_require
trap topo_down EXIT INT TERM

NS_EXT=$TOPO_PREFIX-ext
NS_GW=$TOPO_PREFIX-gw
state=$TOPO_TMP/state
mkdir -p "$state"

topo_up
NODE6=fd00:56::11
EXT6=fd00:56::100
NET6=2001:db8:100::1 # an IPv6 "internet" host behind the LAN's router
add_lan_host "$NS_EXT" 192.168.56.100
add_lan_host "$NS_GW" 192.168.56.1
ip -n "$NS_EXT" -6 addr add "$EXT6/64" dev eth0 nodad
ip -n "$NS_GW" -6 addr add fe80::1/64 dev eth0 nodad
ip -n "$NS_GW" -6 addr add fd00:56::1/64 dev eth0 nodad
ip -n "$NS_GW" -6 addr add "$NET6/128" dev lo
ip -n "$NS_NODE" addr add "$NODE_IP/24" dev up0
ip -n "$NS_NODE" route add default via 192.168.56.1
ip -n "$NS_NODE" route add 198.51.100.0/24 via 192.168.56.1 metric 50
ip netns exec "$NS_NODE" sysctl -qw net.ipv6.conf.up0.disable_ipv6=0
ip -n "$NS_NODE" -6 addr add "$NODE6/64" dev up0 nodad
ip -n "$NS_NODE" -6 route add default via fe80::1 dev up0
ip -n "$NS_NODE" -6 route add 2001:db8:100::/48 via fe80::1 dev up0 metric 50
node_sysctls() {
  ip netns exec "$NS_NODE" sysctl -n net.ipv4.conf.up0.rp_filter net.ipv4.conf.up0.arp_ignore \
    net.ipv6.conf.up0.disable_ipv6 | tr '\n' ' '
}
sysctls=$(node_sysctls)
ip netns exec "$NS_NODE" socat TCP-LISTEN:2222,fork,reuseaddr SYSTEM:'echo ssh-ok' &
ip netns exec "$NS_NODE" socat TCP6-LISTEN:2222,ipv6only=1,fork,reuseaddr SYSTEM:'echo ssh-ok' &
sleep 0.3

# (No grep -q after a pipe: with pipefail, the writer's SIGPIPE fails it.)
ssh_works() { ip netns exec "$NS_EXT" socat -T 2 - TCP:"$NODE_IP":2222,connect-timeout=2 </dev/null 2>/dev/null | grep ssh-ok >/dev/null; }
ssh6_works() { ip netns exec "$NS_EXT" socat -T 2 - "TCP6:[$NODE6]:2222,connect-timeout=2" </dev/null 2>/dev/null | grep ssh-ok >/dev/null; }
# The node's IPv6 default route at work: its kernel reaches NET6 via fe80::1.
net6_works() { ip netns exec "$NS_NODE" ping -6 -q -c 1 -W 1 "$NET6" >/dev/null 2>&1; }
# back SECONDS COMMAND: COMMAND succeeds again within SECONDS.
back() {
  local i n=$(($1 * 5))
  shift
  for i in $(seq "$n"); do "$@" && return 0; sleep 0.2; done
  return 1
}
ssh_back() { back "$1" ssh_works && back "$1" ssh6_works; }
addr_on() {
  ip -n "$NS_NODE" -4 addr show dev "$1" 2>/dev/null | grep "inet $NODE_IP/24" >/dev/null &&
    ip -n "$NS_NODE" -6 addr show dev "$1" 2>/dev/null | grep "inet6 $NODE6/64" >/dev/null
}
no_addr_on() {
  ! ip -n "$NS_NODE" -4 addr show dev "$1" 2>/dev/null | grep "inet $NODE_IP/24" >/dev/null &&
    ! ip -n "$NS_NODE" -6 addr show dev "$1" 2>/dev/null | grep "inet6 $NODE6/64" >/dev/null
}
routes_on() {
  ip -n "$NS_NODE" route show dev "$1" 2>/dev/null | grep "^default via 192.168.56.1" >/dev/null &&
    ip -n "$NS_NODE" route show dev "$1" | grep "^198.51.100.0/24 via 192.168.56.1 metric 50" >/dev/null &&
    ip -n "$NS_NODE" -6 route show dev "$1" | grep "^default via fe80::1" >/dev/null &&
    ip -n "$NS_NODE" -6 route show dev "$1" | grep "^2001:db8:100::/48 via fe80::1 metric 50" >/dev/null
}
take_over() { start_svcdp "$bin" --exception-iface svcdp0 --take-over-address up0 --state-dir "$state"; }

check "before svcdp: SSH to the node's kernel on up0 (IPv4 and IPv6)" ssh_back 1
check "before svcdp: the node reaches $NET6 by its IPv6 default route" back 3 net6_works
take_over || exit 1
show() { ip -n "$NS_NODE" -br addr; ip -n "$NS_NODE" route; ip -n "$NS_NODE" -6 route; }
taken_over() { addr_on svcdp0 && routes_on svcdp0 && no_addr_on up0 || { show | sed 's/^/    /'; return 1; }; }
given_back() { addr_on up0 && routes_on up0 && test ! -e "$state/address-handover.json" || { show | sed 's/^/    /'; return 1; }; }
offline() { ! ssh_works && ! ssh6_works && test -e "$state/address-handover.json"; }
check "taken over: both families' addresses and routes on the TAP, none on up0" taken_over
check "taken over: the TAP has up0's MTU" test "$(ip -n "$NS_NODE" -o link show svcdp0 | grep -o 'mtu [0-9]*')" = "mtu 1500"
check "what was taken is saved under --state-dir" grep -q '"local": "192.168.56.11"' "$state/address-handover.json"
check "... with the IPv6 address and the route via the router's link-local address" \
  sh -c "grep -q '\"local\": \"$NODE6\"' '$state/address-handover.json' && grep -q '\"gateway\": \"fe80::1\"' '$state/address-handover.json'"
# The kernel still sees up0 (a veth, as an af_packet uplink's NIC): it must
# not take its frames as well while svcdp drives it.
check "while svcdp holds up0: strict rp_filter, arp_ignore 8 and no IPv6 on it" test "$(node_sysctls)" = "1 8 1 "
check "SSH to the node through svcdp (IPv4 and IPv6)" ssh_back 5
check "the node reaches $NET6 through svcdp by its IPv6 default route on the TAP" back 5 net6_works

stop_svcdp
check "SIGTERM: exit 0" test $? -eq 0
check "given back: addresses and routes on up0 again, state file removed" given_back
check "given back: up0's sysctls as they were" test "$(node_sysctls)" = "$sysctls"
check "SSH to the node's kernel directly again (IPv4 and IPv6)" ssh_back 5
check "the node reaches $NET6 directly again" back 5 net6_works

take_over || exit 1
kill -KILL "$SVCDP_PID"
wait "$SVCDP_PID" 2>/dev/null
SVCDP_PID=
check "SIGKILL: the node is off the network, the state file stays" offline
ip netns exec "$NS_NODE" "$bin" -- --restore-address --state-dir "$state" --uplink x --pods y --cluster-file "$TOPO_CLUSTER" \
  >"$TOPO_TMP/restore.log" 2>&1
check "svcdp --restore-address (a supervisor's ExecStopPost) gives the address back" given_back
check "SSH to the node's kernel directly after the restore" ssh_back 5

take_over || exit 1
kill -KILL "$SVCDP_PID"
wait "$SVCDP_PID" 2>/dev/null
SVCDP_PID=
start=$(date +%s%N)
take_over || exit 1
check "SIGKILL + restart: the stale state given back, then taken over again" \
  grep -q "given back from a previous run" "$SVCDP_LOG"
check "SSH to the node through the restarted svcdp" ssh_back 10
echo "    back after $(( ($(date +%s%N) - start) / 1000000 )) ms from the restart"
stop_svcdp
rc=$?
check "SIGTERM: exit 0" test "$rc" -eq 0
check "address and routes back on up0" given_back
check_report
