"""Orders v3: from landed changes to versions, current orders and lines, and the order view."""

from assets.orders.bronze import order_changes
from assets.orders.checks import order_lines_match_current_orders, orders_have_unique_order_id
from assets.orders.serving import order_view
from assets.orders.silver import apply_order_changes, order_lines, orders

ORDER_ASSETS = [order_changes, apply_order_changes, orders, order_lines, order_view]
ORDER_CHECKS = [orders_have_unique_order_id, order_lines_match_current_orders]
