"""Windows (窗口): departments with window-clerk posts, and which one serves a place.

A place is served by the nearest window at or above it: a village without a
代办点 by its township's 便民服务中心, a township without one by the county
center. A case belongs to the window that received it: the receiver's own window
when the receiver is a clerk there, else the window serving the case's place.
Routing (即办件 stay at the window) and the cases' 待送达 queue both ask here.
"""

from __future__ import annotations

from sqlalchemy import select

from app.models.auth import User
from app.models.org import Department, Post, Region, user_post

from .resolver import region_chain

WINDOW_ROLE = "window_clerk"


def window_posts_at(session, region_ids) -> list[Post]:
    """The window-clerk posts of the departments at these regions."""
    if not region_ids:
        return []
    return list(
        session.scalars(
            select(Post)
            .join(Department, Department.id == Post.department_id)
            .where(Department.region_id.in_(list(region_ids)), Post.role == WINDOW_ROLE)
            .order_by(Post.id)
        )
    )


def window_region_ids(session) -> set[int]:
    """Every region that has a window."""
    return set(
        session.scalars(
            select(Department.region_id)
            .join(Post, Post.department_id == Department.id)
            .where(Post.role == WINDOW_ROLE)
            .distinct()
        )
    )


def nearest_window(session, place: Region | None) -> list[Post]:
    """The window-clerk posts of the nearest window at or above ``place``."""
    for region in region_chain(session, place):
        posts = window_posts_at(session, [region.id])
        if posts:
            return posts
    return []


def _receivers_windows(session, username: str, place: Region) -> list[Post]:
    """The receiver's own window posts whose region contains the place, nearest first."""
    rows = session.execute(
        select(Post, Region)
        .join(Department, Department.id == Post.department_id)
        .join(Region, Region.id == Department.region_id)
        .join(user_post, user_post.c.post_id == Post.id)
        .join(User, User.id == user_post.c.user_id)
        .where(User.username == username, Post.role == WINDOW_ROLE)
    ).all()
    inside = [(region, post) for post, region in rows if place.path.startswith(region.path)]
    if not inside:
        return []
    deepest = max(len(region.path) for region, _ in inside)
    nearest = {region.id for region, _ in inside if len(region.path) == deepest}
    return window_posts_at(session, nearest)


def receiving_window(session, receiver: str | None, place: Region | None) -> list[Post]:
    """The window a case belongs to: the receiver's, else the one serving its place."""
    if place is None:
        return []
    if receiver:
        posts = _receivers_windows(session, receiver, place)
        if posts:
            return posts
    return nearest_window(session, place)


def holders_of(session, posts: list[Post]) -> list[User]:
    """The active holders of these posts."""
    if not posts:
        return []
    return list(
        session.scalars(
            select(User)
            .join(user_post, user_post.c.user_id == User.id)
            .where(user_post.c.post_id.in_([p.id for p in posts]), User.active.is_(True))
            .distinct()
            .order_by(User.username)
        )
    )
