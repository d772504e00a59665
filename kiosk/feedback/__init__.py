"""好差评 / 投诉 at the kiosk: 吐槽找茬 and complaints by category, preset phrases, optional phone (issues 5, 9)."""
