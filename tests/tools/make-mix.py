#!/usr/bin/python3
# Writes tests/data/mix.pcap: the frame mix the selection tests send through
# a source in both directions. Run again only to change the mix (needs
# python3-scapy); the tests use the committed file.
import sys
from scapy.all import (ARP, ICMP, IP, IPOption_RR, IPv6, ICMPv6EchoRequest, TCP, UDP,
                       Dot1Q, Ether, Raw, wrpcap)

A, B = "02:00:00:00:00:0a", "02:00:00:00:00:0b"
frames = []
def add(p):
    frames.append(p)

for src, dst in (("192.0.2.10", "192.0.2.20"), ("10.1.2.3", "192.0.2.20")):
    add(Ether(src=A, dst=B) / IP(src=src, dst=dst) / TCP(sport=40000, dport=80, flags="S"))
    add(Ether(src=B, dst=A) / IP(src=dst, dst=src) / TCP(sport=80, dport=40000, flags="SA"))
    add(Ether(src=A, dst=B) / IP(src=src, dst=dst) / TCP(sport=40000, dport=80, flags="A"))
    add(Ether(src=A, dst=B) / IP(src=src, dst=dst) / TCP(sport=40000, dport=443, flags="PA") / Raw(b"x" * 300))
    for port in (53, 123, 5000):
        add(Ether(src=A, dst=B) / IP(src=src, dst=dst) / UDP(sport=33333, dport=port) / Raw(b"u" * 40))
    add(Ether(src=A, dst=B) / IP(src=src, dst=dst) / ICMP(type=8) / Raw(b"p" * 56))
# ARP request (broadcast) and reply
add(Ether(src=A, dst="ff:ff:ff:ff:ff:ff") / ARP(op=1, hwsrc=A, psrc="192.0.2.10", pdst="192.0.2.20"))
add(Ether(src=B, dst=A) / ARP(op=2, hwsrc=B, psrc="192.0.2.20", hwdst=A, pdst="192.0.2.10"))
# IPv6
add(Ether(src=A, dst=B) / IPv6(src="2001:db8::a", dst="2001:db8::b") / ICMPv6EchoRequest())
add(Ether(src=A, dst=B) / IPv6(src="2001:db8::a", dst="2001:db8::b") / TCP(sport=40001, dport=22, flags="S"))
add(Ether(src=A, dst=B) / IPv6(src="2001:db8::a", dst="2001:db8::b") / UDP(sport=5353, dport=53))
# VLAN-tagged
add(Ether(src=A, dst=B) / Dot1Q(vlan=10) / IP(src="192.0.2.10", dst="192.0.2.20") / UDP(sport=1, dport=53))
add(Ether(src=A, dst=B) / Dot1Q(vlan=20) / IP(src="192.0.2.10", dst="192.0.2.20") / TCP(sport=40000, dport=80, flags="S"))
add(Ether(src=A, dst="ff:ff:ff:ff:ff:ff") / Dot1Q(vlan=20) / ARP(op=1, hwsrc=A, psrc="192.0.2.10", pdst="192.0.2.30"))
# IPv4 with options (header of 28 bytes)
add(Ether(src=A, dst=B) / IP(src="192.0.2.10", dst="192.0.2.20", options=[IPOption_RR(routers=["0.0.0.0"])]) / TCP(sport=40002, dport=80, flags="S"))
add(Ether(src=A, dst=B) / IP(src="192.0.2.10", dst="192.0.2.20", options=[IPOption_RR(routers=["0.0.0.0"])]) / ICMP(type=8))

wrpcap(sys.argv[1] if len(sys.argv) > 1 else "tests/data/mix.pcap", frames)
print(len(frames), "frames")
